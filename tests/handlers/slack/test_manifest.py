"""The app manifest an admin pastes into Slack matches what the app listens to."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.core.commands import COMMANDS
from bot.handlers.slack.app import SLASH_COMMANDS
from bot.handlers.slack.server import EVENTS_PATH

MANIFEST = Path(__file__).resolve().parents[3] / "manifest.yml"


def test_the_manifest_declares_every_command_scope_and_event() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert manifest["display_information"]["name"] == "Vangnet"
    assert manifest["features"]["bot_user"]["display_name"] == "Vangnet"
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [f"/{name}" for name in SLASH_COMMANDS]
    assert list(SLASH_COMMANDS) == list(COMMANDS)  # the core's table, in its order
    for command in commands:
        assert command["url"] == f"https://YOUR-HOST{EVENTS_PATH}"
        assert 0 < len(command["description"]) <= 100
        # the hint shows what the table's usage says (Slack may add its own "[chat]")
        arguments = COMMANDS[command["command"].lstrip("/")].usage.partition(" ")[2]
        assert command.get("usage_hint", "").startswith(arguments)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "im:write",
        "im:history",
        "metadata.message:read",
        "files:read",
        "files:write",
    }
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened", "message.im"]
    assert settings["event_subscriptions"]["request_url"] == f"https://YOUR-HOST{EVENTS_PATH}"
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": f"https://YOUR-HOST{EVENTS_PATH}",
    }
    assert settings["socket_mode_enabled"] is True


def test_every_advertised_command_is_built() -> None:
    """A command in the manifest that the core does not have would only answer "I don't know
    the command" (/scan and /admin join when they are built)."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    advertised = {c["command"].lstrip("/") for c in manifest["features"]["slash_commands"]}
    assert advertised <= set(COMMANDS)
    assert set(SLASH_COMMANDS) <= set(COMMANDS)
