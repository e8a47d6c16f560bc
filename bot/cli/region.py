"""`vangnet region apply`: a region file written into the directory on purpose."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.support import (
    change_lines,
    cli_translator,
    fail,
    load_settings,
    reported,
)

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True, help="The region file and the directory.")


@app.command("apply")
@reported
def region_apply(
    file: Annotated[
        Path, typer.Argument(help="The region file (YAML) to write into the directory.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would change; change nothing.")
    ] = False,
) -> None:
    """Write a region file into the directory on purpose: people, schools and municipalities
    added or changed, people not in the file deactivated. Each change is audited."""
    from bot.core.context import SYSTEM_ID
    from bot.core.directory import apply_region, region_changes
    from bot.region import RegionFileError
    from bot.region.file import load_region
    from bot.store.db import make_engine, session_scope, upgrade

    settings = load_settings(file)
    t = cli_translator(settings)
    try:
        region = load_region(file)
    except RegionFileError as exc:
        raise fail(t("Region file refused: {problem}", problem=str(exc))) from None
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            if dry_run:
                changes = region_changes(session, region)
            else:
                changes = apply_region(session, region, actor_id=SYSTEM_ID, transport="cli")
    finally:
        engine.dispose()
    for line in change_lines(t, changes):
        typer.echo(line)
    if not changes:
        typer.echo(t("The directory already matches this region file."))
    elif dry_run:
        typer.echo(t("Nothing was changed (--dry-run). Run again without --dry-run to apply."))
    else:
        typer.echo(t("The region file is applied."))
