"""The command line's root: `vangnet run | digest | export | erase | import` and the groups
(`db`, `scan`, `region`, `keys`, `privacy`, each a module beside this one); also `python -m bot`.

What goes wrong in a way one can expect (the database cannot be reached, a file cannot be
read or written, a bad region file) is said in one line on standard error, in the region's
language, with exit status 1 (2 for a wrong use of the command); `vangnet --debug …` shows the
traceback instead. Such a line never quotes personal data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from bot.cli import db, keys, privacy, region, scan, teams
from bot.cli.support import (
    Options,
    RegionFileOption,
    as_system,
    cli_translator,
    core_or_exit,
    fail,
    load_settings,
    region_notice,
    reported,
    say,
)
from bot.config import Settings
from bot.logs import quiet_platform_loggers

if TYPE_CHECKING:
    from bot.core.app import Core
    from bot.core.context import Ctx

T = TypeVar("T")
P = ParamSpec("P")

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Vangnet: the region's safety net.",
)
# The groups of commands, each a module of its own.
app.add_typer(db.app, name="db")
app.add_typer(scan.app, name="scan")
app.add_typer(region.app, name="region")
app.add_typer(keys.app, name="keys")
app.add_typer(privacy.app, name="privacy")
app.add_typer(teams.app, name="teams")


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the whole traceback when something fails.")
    ] = False,
) -> None:
    Options.debug = debug


@app.command()
@reported
def run() -> None:
    """Start every configured transport and the scheduler; with none, the terminal chat."""
    settings = load_settings()
    logging.basicConfig(level=logging.INFO if settings.platform_enabled else logging.WARNING)
    quiet_platform_loggers()
    t = cli_translator(settings)
    if settings.teams_missing:
        raise fail(
            t(
                "Teams needs TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID together; "
                "not set: {names}.",
                names=", ".join(settings.teams_missing),
            )
        )
    if settings.telegram_webhook_url and settings.telegram_webhook_secret is None:
        raise fail(
            t(
                "TELEGRAM_WEBHOOK_URL is set without TELEGRAM_WEBHOOK_SECRET: set a secret "
                "(letters, digits, _ and -), so that only Telegram can post updates."
            )
        )
    if (
        settings.slack_enabled
        and not settings.slack_app_token
        and not settings.slack_signing_secret
    ):
        raise fail(
            t("Slack in HTTP mode needs SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode).")
        )
    from bot.core.scan.content import ScanContentError, check_scan_content

    try:
        check_scan_content()
    except ScanContentError as exc:
        raise fail(t("Scan content refused: {problem}", problem=str(exc)), code=1) from None
    core = core_or_exit(settings)
    if settings.teams_app_id:  # invites link to the chat with the Teams bot
        from bot.core.invites import remember_teams_app

        remember_teams_app(core.engine, settings.teams_app_id)
    notice = region_notice(core, t)
    if notice:
        say(notice)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(core, settings))


async def _serve(core: Core, settings: Settings) -> None:
    from bot.scheduler.clockwork import Clockwork

    clockwork = Clockwork(core, sweep_seconds=settings.vangnet_sweep_seconds)
    clockwork.start()
    try:
        if settings.platform_enabled:
            from bot.handlers.serving import serve

            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await serve(core, settings, stop=stop, charts_in_worker=True)
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
        await clockwork.stop()  # the job under way finishes; a sweep releases what it leased


@app.command()
@reported
def digest(
    chart: Annotated[
        Path | None, typer.Option(help="Also write the chart to this PNG file.")
    ] = None,
    region_file: RegionFileOption = None,
) -> None:
    """Print the digest now (never names, only references)."""
    from bot.core import democlock
    from bot.core.digest import on_demand
    from bot.handlers.plain import render

    settings = load_settings(region_file)
    core = core_or_exit(settings)
    democlock.restore(core.engine)  # the terminal demo's moved clock, as /digest there
    reply = as_system(
        core, lambda ctx: on_demand(ctx.session, ctx.region, ctx.t, with_chart=chart is not None)
    )
    if chart is not None and reply.image_png is not None:
        try:
            chart.write_bytes(reply.image_png)
        except OSError as exc:
            t = cli_translator(settings)  # only now: it reads the region file again
            raise fail(
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
@reported
def export(ref: str, region_file: RegionFileOption = None) -> None:
    """Everything stored about one case, as JSON (subject access request)."""
    from bot.core.errors import Refused
    from bot.core.privacy import export_case

    core = core_or_exit(load_settings(region_file))
    try:
        data = as_system(core, lambda ctx: export_case(ctx, ref))
    except Refused as refusal:
        raise fail(refusal.message) from None
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
@reported
def erase(
    ref: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    region_file: RegionFileOption = None,
) -> None:
    """Erase the personal data of one case; the pseudonymous record and audit trail stay."""
    from bot.core.errors import Refused
    from bot.core.privacy import erase_case

    settings = load_settings(region_file)
    t = cli_translator(settings)
    ref = ref.strip().upper().lstrip("#")
    if not yes:
        question = t("Erase the personal data of case {ref}? This cannot be undone.", ref=ref)
        try:
            answer = typer.prompt(f"{question} [y/N]", default="", show_default=False)
        except typer.Abort:  # no answer (no standard input): no erasure
            answer = ""
        sure = answer.strip().casefold() in {"y", "yes", "j", "ja"}
        if not sure:
            raise fail(t("Nothing erased. Confirm, or give --yes."), code=1)
    core = core_or_exit(settings)
    try:
        case = as_system(core, lambda ctx: erase_case(ctx, ref))
    except Refused as refusal:
        raise fail(refusal.message) from None
    typer.echo(t("The personal data of case {ref} is erased.", ref=case.ref))


@app.command("import")
@reported
def import_file(
    file: Annotated[
        Path,
        typer.Argument(help="The CSV file or Excel workbook (.xlsx) of leavers (product.md §10)."),
    ],
    school: Annotated[
        str, typer.Option("--school", help="The id of the leavers' school (any case).")
    ],
    sheet: Annotated[
        str | None,
        typer.Option("--sheet", help="The sheet of a workbook to read (default: the first)."),
    ] = None,
    region_file: RegionFileOption = None,
) -> None:
    """Register the leavers of a CSV file or Excel workbook: the whole file, or nothing when a
    row is bad. The answer says how the file was read and which column gave which field.

    Exit status 0: imported; 1: the file was refused (every problem is listed);
    2: unknown school or unreadable file.
    """
    from bot.core.errors import Refused
    from bot.core.intake.csv_import import ImportResult, import_csv
    from bot.core.intake.import_reply import result_reply
    from bot.core.replies import Reply
    from bot.handlers.common.files import read_upload

    settings = load_settings(region_file)
    t = cli_translator(settings)
    try:
        data = read_upload(file)
    except OSError as exc:
        raise fail(
            t(
                "Cannot read {path}: {reason}",
                path=file,
                reason=exc.strerror or type(exc).__name__,
            )
        ) from None

    def work(ctx: Ctx) -> tuple[ImportResult, Reply]:
        done = import_csv(
            ctx, school_id=_school_id(ctx, school), data=data, filename=file.name, sheet=sheet
        )
        return done, result_reply(ctx.t, done)

    core = core_or_exit(settings)
    try:
        result, reply = as_system(core, work)
    except Refused as refusal:
        raise fail(refusal.message) from None
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


def main() -> None:
    app()
