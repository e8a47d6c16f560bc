"""The command line: `vangnet run | db upgrade | …` (also `python -m bot`).

What goes wrong in a way one can expect (the database cannot be reached, a file cannot be
read or written, a bad region file) is said in one line on standard error, in the region's
language, with exit status 1 (2 for a wrong use of the command); `vangnet --debug …` shows the
traceback instead. Such a line never quotes personal data.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from bot.config import Settings
from bot.region import RegionFileError

if TYPE_CHECKING:
    from bot.core.app import Core
    from bot.core.context import Ctx
    from bot.core.i18n import Translator

T = TypeVar("T")
P = ParamSpec("P")

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Vangnet: the region's safety net.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")
scan_app = typer.Typer(no_args_is_help=True, help="The Participatiescan.")
app.add_typer(scan_app, name="scan")

RegionFileOption = Annotated[
    Path | None,
    typer.Option("--region-file", help="The region file to use instead of VANGNET_REGION_FILE."),
]


class _Options:
    debug = False


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the whole traceback when something fails.")
    ] = False,
) -> None:
    _Options.debug = debug


def _settings(region_file: Path | None = None) -> Settings:
    settings = Settings()
    if region_file is not None:
        settings = settings.model_copy(update={"vangnet_region_file": region_file})
    return settings


def _translator(settings: Settings | None = None) -> Translator:
    """The region's language (its file's, else VANGNET_LANGUAGE), also before the core runs."""
    from bot.core.i18n import translator
    from bot.runtime import default_language, load_configured_region

    settings = settings or _settings()
    try:
        return translator(default_language(settings, load_configured_region(settings)))
    except (RegionFileError, OSError):
        return translator(settings.vangnet_language)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=code)


def _explained(exc: Exception, t: Translator) -> str:
    """One line about an exception, without anything the exception quotes from the data."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    if isinstance(exc, DBAPIError):
        # the driver's own first line ("connection refused"); never the statement or values
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        return t("The database cannot be used: {reason}", reason=reason)
    if isinstance(exc, ArgumentError):
        return t("DATABASE_URL is not a database address that Vangnet can use.")
    if isinstance(exc, RegionFileError):
        return t("Region file refused: {problem}", problem=str(exc))
    if isinstance(exc, OSError):
        return t(
            "Cannot use the file {path}: {reason}",
            path=exc.filename if exc.filename is not None else "-",
            reason=exc.strerror or type(exc).__name__,
        )
    return t("Something went wrong ({error}); --debug shows the details.", error=type(exc).__name__)


def _reported(command: Callable[P, None]) -> Callable[P, None]:
    """A command whose failures are said in one line (or shown whole with --debug)."""

    @functools.wraps(command)
    def reported(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            if _Options.debug:
                raise
            raise _fail(_explained(exc, _translator()), code=1) from None

    return reported


@app.command()
@_reported
def run() -> None:
    """Start every configured transport and the scheduler; with none, the terminal chat."""
    settings = _settings()
    logging.basicConfig(level=logging.INFO if settings.slack_enabled else logging.WARNING)
    t = _translator(settings)
    if settings.telegram_enabled:
        raise _fail(
            t(
                "TELEGRAM_BOT_TOKEN is set, but this version of Vangnet has no Telegram "
                "transport yet. Unset it (Slack and the terminal chat work)."
            )
        )
    if (
        settings.slack_enabled
        and not settings.slack_app_token
        and not settings.slack_signing_secret
    ):
        raise _fail(
            t("Slack in HTTP mode needs SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode).")
        )
    from bot.core.scan.content import ScanContentError, check_scan_content

    try:
        check_scan_content()
    except ScanContentError as exc:
        raise _fail(t("Scan content refused: {problem}", problem=str(exc)), code=1) from None
    core = _core_or_exit(settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(core, settings))


async def _serve(core: Core, settings: Settings) -> None:
    from bot.scheduler.clockwork import build_scheduler

    scheduler = build_scheduler(core, sweep_seconds=settings.vangnet_sweep_seconds)
    scheduler.start()
    try:
        if settings.slack_enabled:
            from bot.handlers.slack.server import serve

            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await serve(core, settings, stop=stop)
        else:
            from bot.handlers.terminal import TerminalChat, default_chart_dir

            chat = TerminalChat(
                core,
                sys.stdin,
                sys.stdout,
                interactive=sys.stdin.isatty(),
                chart_dir=default_chart_dir(settings.database_url),
            )
            await chat.run()
    finally:
        scheduler.shutdown(wait=False)


def _core_or_exit(settings: Settings | None = None) -> Core:
    from bot.runtime import build_core

    settings = settings or _settings()
    try:
        return build_core(settings)
    except RegionFileError as exc:
        raise _fail(_explained(exc, _translator(settings))) from None


def _as_system(core: Core, work: Callable[[Ctx], T]) -> T:
    from bot.core.context import system_person
    from bot.store.db import session_scope

    with session_scope(core.engine) as session:
        return work(core.ctx(session, system_person(), transport="cli", private=True))


@app.command()
@_reported
def digest(
    chart: Annotated[
        Path | None, typer.Option(help="Also write the chart to this PNG file.")
    ] = None,
    region_file: RegionFileOption = None,
) -> None:
    """Print the digest now (never names, only references)."""
    from bot.core.digest import on_demand
    from bot.handlers.terminal import render

    settings = _settings(region_file)
    core = _core_or_exit(settings)
    t = _translator(settings)
    reply = _as_system(core, lambda ctx: on_demand(ctx.session, ctx.region, ctx.t))
    if chart is not None and reply.image_png is not None:
        try:
            chart.write_bytes(reply.image_png)
        except OSError as exc:
            raise _fail(
                t(
                    "Cannot write the chart to {path}: {reason}",
                    path=chart,
                    reason=exc.strerror or type(exc).__name__,
                ),
                code=1,
            ) from None
        typer.echo(render(reply, image_path=chart))
    else:
        typer.echo(render(reply))


@app.command()
@_reported
def export(ref: str, region_file: RegionFileOption = None) -> None:
    """Everything stored about one case, as JSON (subject access request)."""
    from bot.core.errors import Refused
    from bot.core.privacy import export_case

    core = _core_or_exit(_settings(region_file))
    try:
        data = _as_system(core, lambda ctx: export_case(ctx, ref))
    except Refused as refusal:
        raise _fail(refusal.message) from None
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
@_reported
def erase(
    ref: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    region_file: RegionFileOption = None,
) -> None:
    """Erase the personal data of one case; the pseudonymous record and audit trail stay."""
    from bot.core.errors import Refused
    from bot.core.privacy import erase_case

    settings = _settings(region_file)
    t = _translator(settings)
    ref = ref.strip().upper().lstrip("#")
    if not yes:
        question = t("Erase the personal data of case {ref}? This cannot be undone.", ref=ref)
        try:
            answer = typer.prompt(f"{question} [y/N]", default="", show_default=False)
        except typer.Abort:  # no answer (no standard input): no erasure
            answer = ""
        sure = answer.strip().casefold() in {"y", "yes", "j", "ja"}
        if not sure:
            raise _fail(t("Nothing erased. Confirm, or give --yes."), code=1)
    core = _core_or_exit(settings)
    try:
        case = _as_system(core, lambda ctx: erase_case(ctx, ref))
    except Refused as refusal:
        raise _fail(refusal.message) from None
    typer.echo(t("The personal data of case {ref} is erased.", ref=case.ref))


@app.command("import")
@_reported
def import_file(
    file: Annotated[Path, typer.Argument(help="The CSV file of leavers (product.md §10).")],
    school: Annotated[
        str, typer.Option("--school", help="The id of the leavers' school (any case).")
    ],
    region_file: RegionFileOption = None,
) -> None:
    """Register the leavers of a CSV file: the whole file, or nothing when a row is bad.

    Exit status 0: imported; 1: the file was refused (every problem is listed);
    2: unknown school or unreadable file.
    """
    from bot.core.errors import Refused
    from bot.core.intake.csv_import import ImportResult, import_csv, result_reply
    from bot.core.replies import Reply

    settings = _settings(region_file)
    t = _translator(settings)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _fail(
            t(
                "Cannot read {path}: {reason}",
                path=file,
                reason=exc.strerror or type(exc).__name__,
            )
        ) from None

    def work(ctx: Ctx) -> tuple[ImportResult, Reply]:
        done = import_csv(ctx, school_id=_school_id(ctx, school), data=data)
        return done, result_reply(ctx.t, done)

    core = _core_or_exit(settings)
    try:
        result, reply = _as_system(core, work)
    except Refused as refusal:
        raise _fail(refusal.message) from None
    lines = [reply.title or "", reply.text, *(f"  {line}" for line in reply.lines)]
    typer.echo("\n".join(line for line in lines if line), err=not result.ok)
    if not result.ok:
        raise typer.Exit(code=1)


def _school_id(ctx: Ctx, typed: str) -> str:
    """The directory's id of the school typed, whatever its case (BRUG is brug)."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from bot.store.models import School

    found = ctx.session.exec(
        select(School.id).where(func.lower(col(School.id)) == typed.strip().casefold())
    ).first()
    return found if found is not None else typed


@scan_app.command("export")
@_reported
def scan_export(
    session_id: Annotated[int, typer.Argument(metavar="SESSION")],
    csv_format: Annotated[bool, typer.Option("--csv", help="CSV instead of Markdown.")] = False,
    region_file: RegionFileOption = None,
) -> None:
    """A scan's results and improvement agenda, as Markdown (or CSV); no personal data."""
    import csv
    import io

    from bot.core.i18n import translator
    from bot.core.scan.agenda import export_markdown, export_rows
    from bot.store.models import ScanSession

    settings = _settings(region_file)
    core = _core_or_exit(settings)

    def work(ctx: Ctx) -> str | None:
        scan = ctx.session.get(ScanSession, session_id)
        if scan is None:
            return None
        t = translator(scan.language)  # the language the scan was held in
        if not csv_format:
            return export_markdown(ctx.session, t, scan)
        buf = io.StringIO()
        csv.writer(buf).writerows(export_rows(ctx.session, t, scan))
        return buf.getvalue()

    text = _as_system(core, work)
    if text is None:
        t = _translator(settings)
        raise _fail(t("There is no scan {id}.", id=session_id), code=1)
    typer.echo(text, nl=False)


@db_app.command("upgrade")
@_reported
def db_upgrade() -> None:
    """Bring the database schema up to date (migrations only)."""
    from bot.store.db import current_revision, make_engine, upgrade

    settings = _settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    t = _translator(settings)
    typer.echo(t("The database is at revision {revision}.", revision=current_revision(engine)))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
