"""The command line: `vangnet run | db upgrade | …` (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
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
    """Start every configured transport; with none configured, the terminal chat."""
    from bot.handlers.terminal import TerminalChat
    from bot.runtime import build_core
    from bot.scheduler.clockwork import build_scheduler

    settings = _settings()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if settings.slack_enabled or settings.telegram_enabled:
        raise _fail(
            "Slack or Telegram is configured, but this version of Vangnet has only the "
            "terminal chat. Unset SLACK_BOT_TOKEN and TELEGRAM_BOT_TOKEN to use it."
        )
    try:
        core = build_core(settings)
    except RegionFileError as exc:
        raise _fail(f"Region file refused: {exc}") from None
    chat = TerminalChat(core, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())

    async def main() -> None:
        scheduler = build_scheduler(core, sweep_seconds=settings.vangnet_sweep_seconds)
        scheduler.start()
        try:
            await chat.run()
        finally:
            scheduler.shutdown(wait=False)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def _core_or_exit() -> Core:
    from bot.runtime import build_core

    try:
        return build_core(_settings())
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
