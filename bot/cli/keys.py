"""`vangnet keys generate | rotate`: the key of the personal data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.support import (
    cli_translator,
    engine_or_exit,
    load_settings,
    reported,
)

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True, help="The key of the personal data.")


@app.command("generate")
def keys_generate() -> None:
    """Print a new key for VANGNET_SECRET_KEY (nothing is stored)."""
    from bot.store.secret_key import generate

    typer.echo(generate())


@app.command("rotate")
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
