"""`vangnet privacy report`: the privacy report for the DPIA."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.support import (
    as_system,
    cli_translator,
    core_or_exit,
    load_settings,
    reported,
)

app = typer.Typer(no_args_is_help=True, help="Privacy: the report for the DPIA.")


@app.command("report")
@reported
def privacy_report(
    language: Annotated[
        str | None, typer.Option("--language", help="nl or en (default: the region's).")
    ] = None,
    region_file: Annotated[
        Path | None,
        typer.Option(
            "--region-file", help="The region file to use instead of VANGNET_REGION_FILE."
        ),
    ] = None,
) -> None:
    """For the DPIA: the personal fields, where they are stored and shown, who may see them,
    the retention period, how many cases hold personal data, when the key was rotated."""
    from bot.core.i18n import translator
    from bot.core.privacy_report import report

    settings = load_settings(region_file)
    if language not in (None, "nl", "en"):
        t = cli_translator(settings)
        typer.echo(t("Choose --language nl or en."), err=True)
        raise typer.Exit(code=2)
    core = core_or_exit(settings)

    lines = as_system(core, lambda ctx: report(ctx, translator(language) if language else ctx.t))
    typer.echo("\n".join(lines))
