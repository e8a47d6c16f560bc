"""The command line of the encryption key and the privacy report:
`vangnet keys generate | rotate` and `vangnet privacy report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli_support import (
    as_system,
    cli_translator,
    core_or_exit,
    engine_or_exit,
    load_settings,
    reported,
)

keys_app = typer.Typer(no_args_is_help=True, help="The key of the personal data.")
privacy_app = typer.Typer(no_args_is_help=True, help="Privacy: the report for the DPIA.")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new key for VANGNET_SECRET_KEY (nothing is stored)."""
    from bot.secret_key import generate

    typer.echo(generate())


@keys_app.command("rotate")
@reported
def keys_rotate(
    batch: Annotated[int, typer.Option(min=1, help="Rows per transaction.")] = 500,
) -> None:
    """Re-encrypt every personal field with the first key of VANGNET_SECRET_KEY.

    Give the new key first and the old one after it (NEW,OLD); when this is done, the old
    key may be dropped. Safe to interrupt: run it again and it goes on where it stopped.
    """
    from bot.core import clock
    from bot.store.rotation import rotate

    settings = load_settings()
    t = cli_translator(settings)
    engine = engine_or_exit(settings)

    def progress(table: str, rows: int) -> None:
        typer.echo(t.tn("{table}: {n} row done", "{table}: {n} rows done", rows, table=table))

    done = rotate(engine, now=clock.now(), batch=batch, after_batch=progress)
    typer.echo(
        t.tn(
            "Re-encrypted {n} value with the newest key ({kept} already were).",
            "Re-encrypted {n} values with the newest key ({kept} already were).",
            done.total,
            kept=done.kept,
        )
    )
    typer.echo(t("The old key can now be removed from VANGNET_SECRET_KEY (or the key file)."))


@privacy_app.command("report")
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
