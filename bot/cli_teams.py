"""The command line of Microsoft Teams: `vangnet teams package`, the app package an admin
uploads (bot/teams_package.py; docs/teams.md says where it goes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli_support import cli_translator, fail, load_settings, reported

teams_app = typer.Typer(no_args_is_help=True, help="Microsoft Teams: the app package.")


@teams_app.command("package")
@reported
def teams_package(
    website: Annotated[
        str,
        typer.Option(help="https:// address of who offers the app (the region, the municipality)."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the zip.")] = Path(
        "vangnet-teams.zip"
    ),
    publisher: Annotated[
        str | None,
        typer.Option(help="Who offers the app, at most 32 characters (default: the region)."),
    ] = None,
    privacy_url: Annotated[
        str | None,
        typer.Option(help="https:// address of the privacy statement (default: website)."),
    ] = None,
    terms_url: Annotated[
        str | None, typer.Option(help="https:// address of the terms of use (default: website).")
    ] = None,
) -> None:
    """Write the Teams app package (manifest, English strings, icons) for TEAMS_APP_ID."""
    from bot.runtime import load_configured_region
    from bot.teams_package import MAX_DEVELOPER_NAME, PackageError, Publisher, package

    settings = load_settings()
    t = cli_translator(settings)
    if not settings.teams_app_id:
        raise fail(
            t(
                "TEAMS_APP_ID is not set: give the Application (client) ID of the Azure Bot's "
                "app registration."
            )
        )
    name = publisher or load_configured_region(settings).region[:MAX_DEVELOPER_NAME]
    about = Publisher(
        name=name,
        website=website,
        privacy_url=privacy_url or website,
        terms_url=terms_url or website,
    )
    try:
        data = package(settings.teams_app_id, about)
    except PackageError as exc:
        raise fail(t("The app package cannot be made: {problem}", problem=str(exc))) from None
    output.write_bytes(data)
    typer.echo(
        t(
            "The Teams app package is saved in {path}. Upload it in the Teams admin center "
            "(Teams apps, Manage apps, Upload new app).",
            path=output,
        )
    )
