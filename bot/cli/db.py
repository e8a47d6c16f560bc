"""`vangnet db upgrade`: database maintenance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.cli.support import (
    cli_translator,
    engine_or_exit,
    load_settings,
    reported,
)

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True, help="Database maintenance.")


@app.command("upgrade")
@reported
def db_upgrade() -> None:
    """Bring the database schema up to date (migrations only)."""
    from bot.store.db import current_revision

    settings = load_settings()
    engine = engine_or_exit(settings)
    t = cli_translator(settings)
    typer.echo(t("The database is at revision {revision}.", revision=current_revision(engine)))
