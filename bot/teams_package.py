"""The Microsoft Teams app package: the zip a tenant's admin uploads (`vangnet teams package`).

Three files make an app: `manifest.json` (schema 1.25, the bot by its app id, in personal
chats, teams and group chats, taking files), the two icons Teams asks for (`color.png`
192×192, `outline.png` 32×32 white on transparent), and here a localization file, `en.json`,
beside the Dutch of the manifest itself (Dutch is the default interface, English complete).

The command menus come from the command table (`bot.core.commands`): the personal chat lists
the rows marked `in_menu` (Teams shows at most ten a scope), a team and a group chat the
rows that make sense there (`in_groups`). Titles are typed commands ("/cases"), so a menu
choice reaches the core as the same line a person would type; the descriptions are the
table's /help texts. The icons are drawn here (Pillow), so the package needs no binary
files in the repository and is the same byte for byte from the same input.

The manifest is checked against Microsoft's published schema in tests/test_teams_package.py
(tests/fixtures/teams/).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from bot import __version__
from bot.core.commands import COMMANDS, Command
from bot.core.i18n import N_, Translator, translator
from bot.core.teams_identity import is_object_id

MANIFEST_VERSION = "1.25"
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/"
    "MicrosoftTeams.schema.json"
)
LOCALIZATION_SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/"
    "MicrosoftTeams.Localization.schema.json"
)
DEFAULT_LANGUAGE = "nl"
OTHER_LANGUAGES = ("en",)
ACCENT = "#1F5F8B"  # the colour of the icon's background, and Teams' accent beside it
APP_NAME = "Vangnet"

# Teams' own limits for a bot's command menu (the schema allows more than Teams shows)
MAX_COMMANDS = 10
MAX_TITLE = 32
MAX_DESCRIPTION = 128
MAX_DEVELOPER_NAME = 32

SHORT_DESCRIPTION = N_("Keeps young people leaving school in view of their region.")
FULL_DESCRIPTION = N_(
    "Vangnet helps the schools (Pro, VSO, Entree), the municipalities' brokers and the "
    "regional coordinator keep every young person who leaves school in view: register "
    "expected leavers, hand each one to the broker of their municipality, follow up after "
    "the placement, and see the weekly digest. Personal details only in your personal chat "
    "with the bot."
)

COLOR_SIZE = 192
OUTLINE_SIZE = 32


class PackageError(ValueError):
    """The package cannot be made from what was given (one line for the operator)."""


@dataclass(frozen=True)
class Publisher:
    """Who offers the app in the tenant (the manifest's `developer`): usually the region."""

    name: str
    website: str
    privacy_url: str
    terms_url: str


def menu_commands(scope: str) -> list[Command]:
    """The commands listed in the menu of a personal chat ("personal") or of a team or
    group chat ("team"), from the command table."""
    if scope == "personal":
        chosen = [c for c in COMMANDS.values() if c.in_menu]
    else:
        chosen = [c for c in COMMANDS.values() if c.in_groups]
    if len(chosen) > MAX_COMMANDS:  # a row marked too many: say so, drop none unseen
        raise PackageError(
            f"Teams shows at most {MAX_COMMANDS} commands in a menu; the command table puts "
            f"{len(chosen)} in the {scope} one"
        )
    return chosen


def _command_list(t: Translator, commands: Iterable[Command]) -> list[dict[str, str]]:
    out = []
    for command in commands:
        title, description = f"/{command.name}", t(command.help)
        if len(title) > MAX_TITLE or len(description) > MAX_DESCRIPTION:
            raise PackageError(
                f"/{command.name}: Teams shows a command's title in {MAX_TITLE} characters and "
                f"its description in {MAX_DESCRIPTION}; the {t.language} text is longer"
            )
        out.append({"title": title, "description": description})
    return out


def _command_lists(t: Translator) -> list[dict[str, Any]]:
    return [
        {"scopes": ["personal"], "commands": _command_list(t, menu_commands("personal"))},
        {"scopes": ["team", "groupChat"], "commands": _command_list(t, menu_commands("team"))},
    ]


def manifest(app_id: str, publisher: Publisher) -> dict[str, Any]:
    """The manifest, in Dutch; `localization` gives the English beside it."""
    app_id = app_id.strip().casefold()
    if not is_object_id(app_id):
        raise PackageError(
            f"TEAMS_APP_ID '{app_id}' is not a GUID: it is the Application (client) ID of the "
            "Azure Bot's app registration"
        )
    for url in (publisher.website, publisher.privacy_url, publisher.terms_url):
        if not url.startswith("https://"):
            raise PackageError(f"'{url}' is not an https:// address; Teams needs one")
    if not 0 < len(publisher.name) <= MAX_DEVELOPER_NAME:
        raise PackageError(f"the publisher's name must be 1 to {MAX_DEVELOPER_NAME} characters")
    t = translator(DEFAULT_LANGUAGE)
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": __version__,
        "id": app_id,
        "localizationInfo": {
            "defaultLanguageTag": DEFAULT_LANGUAGE,
            "additionalLanguages": [
                {"languageTag": language, "file": f"{language}.json"}
                for language in OTHER_LANGUAGES
            ],
        },
        "developer": {
            "name": publisher.name,
            "websiteUrl": publisher.website,
            "privacyUrl": publisher.privacy_url,
            "termsOfUseUrl": publisher.terms_url,
        },
        "name": {"short": APP_NAME, "full": APP_NAME},
        "description": {"short": t(SHORT_DESCRIPTION), "full": t(FULL_DESCRIPTION)},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": _command_lists(t),
            }
        ],
    }


def localization(language: str) -> dict[str, Any]:
    """The strings of the manifest in `language`, keyed as Teams' localization files are."""
    t = translator(language)
    out: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA_URL,
        "name.short": APP_NAME,
        "name.full": APP_NAME,
        "description.short": t(SHORT_DESCRIPTION),
        "description.full": t(FULL_DESCRIPTION),
    }
    for i, command_list in enumerate(_command_lists(t)):
        for j, command in enumerate(command_list["commands"]):
            out[f"bots[0].commandLists[{i}].commands[{j}].title"] = command["title"]
            out[f"bots[0].commandLists[{i}].commands[{j}].description"] = command["description"]
    return out


def _draw_net(draw: ImageDraw.ImageDraw, size: int, ink: tuple[int, int, int, int]) -> None:
    """The mark: a net held between two posts, sagging to catch what falls (a safety net,
    "vangnet"), drawn to the size asked."""
    s = size / 32
    width = max(1, round(2 * s))
    left, right, top = 5 * s, 27 * s, 9 * s
    bottom = 24 * s
    # the posts
    draw.line([(left, top - 3 * s), (left, bottom + 2 * s)], fill=ink, width=width)
    draw.line([(right, top - 3 * s), (right, bottom + 2 * s)], fill=ink, width=width)
    # the net: its upper edge and two sagging strands, and the cords between them
    draw.line([(left, top), (right, top)], fill=ink, width=width)
    for depth in (0.55, 1.0):
        sag = top + (bottom - top) * depth
        box = [left, top - (sag - top), right, sag]
        draw.arc(box, start=0, end=180, fill=ink, width=width)
    for x in (11 * s, 16 * s, 21 * s):
        draw.line([(x, top), (x, bottom - 0.5 * s)], fill=ink, width=width)


def color_icon() -> bytes:
    """192×192, the mark in white on the accent colour, square (Teams rounds it)."""
    accent = tuple(int(ACCENT[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.new("RGBA", (COLOR_SIZE, COLOR_SIZE), (*accent, 255))
    # drawn at the outline's proportions inside the middle, with room around it
    mark = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    _draw_net(ImageDraw.Draw(mark), 128, (255, 255, 255, 255))
    image.alpha_composite(mark, (32, 32))
    return _png(image)


def outline_icon() -> bytes:
    """32×32, the mark in white on a transparent background (Teams' rule for it)."""
    image = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (255, 255, 255, 0))
    _draw_net(ImageDraw.Draw(image), OUTLINE_SIZE, (255, 255, 255, 255))
    return _png(image)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def package(app_id: str, publisher: Publisher) -> bytes:
    """The zip: manifest.json, the localization files and the icons at its root (Teams reads
    no folders), with fixed timestamps so the same input gives the same bytes."""
    files: dict[str, bytes] = {
        "manifest.json": _json(manifest(app_id, publisher)),
        **{f"{language}.json": _json(localization(language)) for language in OTHER_LANGUAGES},
        "color.png": color_icon(),
        "outline.png": outline_icon(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _json(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
