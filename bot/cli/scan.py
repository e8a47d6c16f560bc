"""`vangnet scan export | report`: a Participatiescan's results for the minutes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.support import (
    RegionFileOption,
    as_system,
    cli_translator,
    core_or_exit,
    fail,
    load_settings,
    reported,
)

if TYPE_CHECKING:
    from bot.core.context import Ctx

app = typer.Typer(no_args_is_help=True, help="The Participatiescan.")


@app.command("export")
@reported
def scan_export(
    session_id: Annotated[int, typer.Argument(metavar="SESSION")],
    csv_format: Annotated[bool, typer.Option("--csv", help="CSV instead of Markdown.")] = False,
    region_file: RegionFileOption = None,
) -> None:
    """A scan's results and improvement agenda, as Markdown (or CSV for Excel: semicolons,
    a decimal comma in a Dutch scan); SESSION is the number `/scan list` shows. No personal
    data."""
    from bot.core.i18n import translator
    from bot.core.scan.export import export_csv, export_markdown
    from bot.store.models import ScanSession

    settings = load_settings(region_file)
    core = core_or_exit(settings)

    def work(ctx: Ctx) -> str | None:
        scan = ctx.session.get(ScanSession, session_id)
        if scan is None:
            return None
        t = translator(scan.language)  # the language the scan was held in
        if not csv_format:
            return export_markdown(ctx.session, t, scan)
        return export_csv(ctx.session, t, scan)

    text = as_system(core, work)
    if text is None:
        t = cli_translator(settings)
        raise fail(t("There is no scan {id}.", id=session_id), code=1)
    typer.echo(text, nl=False)


@app.command("report")
@reported
def scan_report(
    session_id: Annotated[int, typer.Argument(metavar="SESSION")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the PDF.")
    ] = None,
    region_file: RegionFileOption = None,
) -> None:
    """A scan's report as a PDF for the minutes and the board; SESSION is the number
    `/scan list` shows. Saved in vangnet-files/ next to the database, or at --output."""
    from bot.core.i18n import translator
    from bot.core.scan.report import file_name, pdf
    from bot.handlers.terminal import default_chart_dir
    from bot.store.models import ScanSession

    settings = load_settings(region_file)
    core = core_or_exit(settings)

    def work(ctx: Ctx) -> tuple[bytes, str] | None:
        scan = ctx.session.get(ScanSession, session_id)
        if scan is None:
            return None
        return pdf(ctx.session, translator(scan.language), ctx.region, scan), file_name(scan)

    made = as_system(core, work)
    t = cli_translator(settings)
    if made is None:
        raise fail(t("There is no scan {id}.", id=session_id), code=1)
    content, name = made
    path = output or default_chart_dir(settings.database_url).parent / "vangnet-files" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    typer.echo(t("The report is saved in {path}.", path=path))
