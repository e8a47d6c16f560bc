"""The command line: `vangnet run | db upgrade | …` (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

import typer

from bot.config import Settings
from bot.region import RegionFileError

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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(chat.run())


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
