"""The command line: `vangnet run | db upgrade | …` (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from bot.config import Settings
from bot.region import RegionFileError

if TYPE_CHECKING:
    from bot.core.app import Core
    from bot.core.context import Ctx

T = TypeVar("T")

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Vangnet: the region's safety net."
)
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
app.add_typer(db_app, name="db")


def _settings() -> Settings:
    return Settings()


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=2)


@app.command()
def run() -> None:
    """Start every configured transport and the scheduler; with none, the terminal chat."""
    settings = _settings()
    logging.basicConfig(level=logging.INFO if settings.slack_enabled else logging.WARNING)
    if settings.telegram_enabled:
        raise _fail(
            "TELEGRAM_BOT_TOKEN is set, but this version of Vangnet has no Telegram transport "
            "yet. Unset it (Slack and the terminal chat work)."
        )
    if (
        settings.slack_enabled
        and not settings.slack_app_token
        and not settings.slack_signing_secret
    ):
        raise _fail(
            "Slack in HTTP mode needs SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)."
        )
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

    try:
        return build_core(settings or _settings())
    except RegionFileError as exc:
        raise _fail(f"Region file refused: {exc}") from None


def _as_system(core: Core, work: Callable[[Ctx], T]) -> T:
    from bot.core.context import system_person
    from bot.store.db import session_scope

    with session_scope(core.engine) as session:
        return work(core.ctx(session, system_person(), transport="cli", private=True))


@app.command()
def digest(
    chart: Annotated[
        Path | None, typer.Option(help="Also write the chart to this PNG file.")
    ] = None,
) -> None:
    """Print the digest now (never names, only references)."""
    from bot.core.digest import on_demand
    from bot.handlers.terminal import render

    core = _core_or_exit()
    reply = _as_system(core, lambda ctx: on_demand(ctx.session, ctx.region, ctx.t))
    typer.echo(render(reply))
    if chart is not None and reply.image_png is not None:
        chart.write_bytes(reply.image_png)
        typer.echo(f"chart written to {chart}")


@app.command()
def export(ref: str) -> None:
    """Everything stored about one case, as JSON (subject access request)."""
    from bot.core.errors import Refused
    from bot.core.privacy import export_case

    core = _core_or_exit()
    try:
        data = _as_system(core, lambda ctx: export_case(ctx, ref))
    except Refused as refusal:
        raise _fail(refusal.message) from None
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command()
def erase(ref: str) -> None:
    """Erase the personal data of one case; the pseudonymous record and audit trail stay."""
    from bot.core.errors import Refused
    from bot.core.privacy import erase_case

    core = _core_or_exit()
    try:
        case = _as_system(core, lambda ctx: erase_case(ctx, ref))
    except Refused as refusal:
        raise _fail(refusal.message) from None
    typer.echo(f"personal data of case {case.ref} erased")


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="The CSV file of leavers (product.md §10).")],
    school: Annotated[str, typer.Option("--school", help="The id of the leavers' school.")],
) -> None:
    """Register the leavers of a CSV file: the whole file, or nothing when a row is bad.

    Exit status 0: imported; 1: the file was refused (every problem is listed);
    2: unknown school or unreadable file.
    """
    from bot.core.csv_import import ImportResult, import_csv, result_reply
    from bot.core.errors import Refused
    from bot.core.replies import Reply

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _fail(f"Cannot read {file}: {exc.strerror or exc}") from None

    def work(ctx: Ctx) -> tuple[ImportResult, Reply]:
        done = import_csv(ctx, school_id=school, data=data)
        return done, result_reply(ctx.t, done)

    core = _core_or_exit()
    try:
        result, reply = _as_system(core, work)
    except Refused as refusal:
        raise _fail(refusal.message) from None
    lines = [reply.title or "", reply.text, *(f"  {line}" for line in reply.lines)]
    typer.echo("\n".join(line for line in lines if line), err=not result.ok)
    if not result.ok:
        raise typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (migrations only)."""
    from bot.store.db import current_revision, make_engine, upgrade

    settings = _settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    typer.echo(f"database at revision {current_revision(engine)}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
