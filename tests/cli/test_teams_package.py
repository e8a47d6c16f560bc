"""`vangnet teams package`: the zip a tenant's admin uploads is one Teams accepts.

The manifest and its English strings are validated against Microsoft's published schemas
(tests/fixtures/teams/, version and source in its README); the limits Teams applies beyond
the schema (ten commands a scope, titles of 32 and descriptions of 128 characters, the
icons' sizes and the outline's white on transparent) are checked here too.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image
from typer.testing import CliRunner

from bot.__main__ import app
from bot.core.commands import COMMANDS
from bot.core.i18n import translator
from bot.teams_package import (
    MANIFEST_VERSION,
    MAX_COMMANDS,
    MAX_DESCRIPTION,
    MAX_TITLE,
    PackageError,
    Publisher,
    manifest,
    package,
)
from tests.conftest import TEST_KEY

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "teams"
APP_ID = "5f1c0d2e-6a7b-4c8d-9e0f-123456789abc"
REGION = (
    "region: Regio Proef\n"
    "municipalities:\n"
    "  - {code: GM0193, name: Zwolle}\n"
    "people:\n"
    "  - {id: anna, name: Anna, roles: [coordinator]}\n"
)


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


MANIFEST_SCHEMA = schema(f"MicrosoftTeams.v{MANIFEST_VERSION}.schema.json")
LOCALIZATION_SCHEMA = schema(f"MicrosoftTeams.Localization.v{MANIFEST_VERSION}.schema.json")


def validate(document: dict[str, Any], against: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(
        against, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def pixels_of(image: Image.Image) -> list[Any]:
    width, height = image.size
    return [image.getpixel((x, y)) for y in range(height) for x in range(width)]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "TELEGRAM_", "TEAMS_", "VANGNET_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    region = tmp_path / "regio.yaml"
    region.write_text(REGION, encoding="utf-8")
    monkeypatch.setenv("VANGNET_REGION_FILE", str(region))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/v.db")
    monkeypatch.setenv("VANGNET_SECRET_KEY", TEST_KEY.decode())
    return CliRunner()


def made(cli: CliRunner, tmp_path: Path) -> dict[str, bytes]:
    done = cli.invoke(
        app, ["teams", "package", "--website", "https://www.regioproef.nl", "-o", "app.zip"]
    )
    assert done.exit_code == 0, done.output
    assert "app.zip" in done.stdout
    with zipfile.ZipFile(tmp_path / "app.zip") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_package_is_valid_against_the_published_schemas(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID.upper())  # as the Azure portal may show it
    files = made(cli, tmp_path)
    assert sorted(files) == ["color.png", "en.json", "manifest.json", "outline.png"]
    found = json.loads(files["manifest.json"])
    assert validate(found, MANIFEST_SCHEMA) == []
    english = json.loads(files["en.json"])
    assert validate(english, LOCALIZATION_SCHEMA) == []

    assert found["manifestVersion"] == MANIFEST_VERSION and found["id"] == APP_ID
    (bot,) = found["bots"]
    assert bot["botId"] == APP_ID and bot["supportsFiles"] is True
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert found["developer"]["name"] == "Regio Proef"  # the region offers it
    assert found["localizationInfo"] == {
        "defaultLanguageTag": "nl",
        "additionalLanguages": [{"languageTag": "en", "file": "en.json"}],
    }


def test_the_command_menus_come_from_the_command_table_in_dutch_and_english(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    files = made(cli, tmp_path)
    lists = json.loads(files["manifest.json"])["bots"][0]["commandLists"]
    english = json.loads(files["en.json"])
    nl, en = translator("nl"), translator("en")
    by_scope = {tuple(c["scopes"]): c["commands"] for c in lists}
    personal = [c["title"] for c in by_scope[("personal",)]]
    assert personal == [f"/{c.name}" for c in COMMANDS.values() if c.in_menu]
    assert {"/leaver", "/cases", "/claim", "/admin"} <= set(personal)  # each role's daily work
    in_groups = [c["title"] for c in by_scope[("team", "groupChat")]]
    assert in_groups == ["/help", "/scan"]  # what makes sense in a channel
    for i, command_list in enumerate(lists):
        assert len(command_list["commands"]) <= MAX_COMMANDS
        for j, command in enumerate(command_list["commands"]):
            row = COMMANDS[command["title"].lstrip("/")]
            assert command["description"] == nl(row.help)  # Dutch is the default
            assert english[f"bots[0].commandLists[{i}].commands[{j}].title"] == command["title"]
            description = english[f"bots[0].commandLists[{i}].commands[{j}].description"]
            assert description == en(row.help) and description != command["description"]
            assert len(command["title"]) <= MAX_TITLE
            assert len(command["description"]) <= MAX_DESCRIPTION
            assert len(description) <= MAX_DESCRIPTION
    assert (
        english["description.short"] != json.loads(files["manifest.json"])["description"]["short"]
    )


def test_every_command_would_fit_in_a_teams_menu() -> None:
    """A row marked for the menu later must fit too: its title and /help text, both
    languages, within Teams' limits; and the menu keeps to ten."""
    assert len([c for c in COMMANDS.values() if c.in_menu]) <= MAX_COMMANDS
    for command in COMMANDS.values():
        assert len(f"/{command.name}") <= MAX_TITLE
        for language in ("nl", "en"):
            assert len(translator(language)(command.help)) <= MAX_DESCRIPTION, command.name


def test_a_menu_of_more_than_ten_is_refused_not_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import bot.teams_package

    more = {name: replace(c, in_menu=True) for name, c in COMMANDS.items()}
    monkeypatch.setattr(bot.teams_package, "COMMANDS", more)
    about = Publisher("Regio Proef", "https://a.nl", "https://a.nl", "https://a.nl")
    with pytest.raises(PackageError, match="at most 10 commands"):
        package(APP_ID, about)


def test_the_icons_are_the_sizes_teams_asks_for(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    files = made(cli, tmp_path)
    color = Image.open(io.BytesIO(files["color.png"]))
    assert color.format == "PNG" and color.size == (192, 192)
    assert len(set(pixels_of(color.convert("RGB")))) > 1  # a mark on the background
    outline = Image.open(io.BytesIO(files["outline.png"])).convert("RGBA")
    assert outline.size == (32, 32)
    pixels = pixels_of(outline)
    seen = [p for p in pixels if p[3] > 0]
    assert seen and len(seen) < len(pixels) // 2  # a drawn outline, mostly transparent
    assert all(p[:3] == (255, 255, 255) for p in seen)  # white only
    assert pixels[0][3] == 0  # the corner is transparent


def test_the_same_input_gives_the_same_package() -> None:
    about = Publisher("Regio Proef", "https://a.nl", "https://a.nl/p", "https://a.nl/t")
    assert package(APP_ID, about) == package(APP_ID, about)


def test_without_an_app_id_or_with_a_bad_one_nothing_is_written(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["teams", "package", "--website", "https://www.regioproef.nl", "-o", "app.zip"]
    missing = cli.invoke(app, args)
    assert missing.exit_code == 2 and "TEAMS_APP_ID" in missing.stderr
    monkeypatch.setenv("TEAMS_APP_ID", "vangnet-bot")
    bad = cli.invoke(app, args)
    assert bad.exit_code == 2 and "is not a GUID" in bad.stderr
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    plain = cli.invoke(app, ["teams", "package", "--website", "http://www.regioproef.nl"])
    assert plain.exit_code == 2 and "https://" in plain.stderr
    assert not (tmp_path / "app.zip").exists()
    assert not (tmp_path / "vangnet-teams.zip").exists()


def test_a_publisher_name_longer_than_teams_shows_is_refused() -> None:
    about = Publisher("x" * 33, "https://a.nl", "https://a.nl", "https://a.nl")
    with pytest.raises(PackageError, match="32"):
        manifest(APP_ID, about)
