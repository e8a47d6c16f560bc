"""The command lists for Telegram's menu come from the core's command table."""

from __future__ import annotations

import re

from telegram import Bot, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

from bot.core.commands import COMMANDS
from bot.handlers.telegram.commands import command_lists
from tests.handlers.telegram.fake_telegram import FakeTelegram


def the_list(scope: type, language: str | None) -> dict[str, str]:
    [found] = [
        cl for cl in command_lists() if isinstance(cl.scope, scope) and cl.language_code == language
    ]
    return {c.command: c.description for c in found.commands}


def test_private_chats_list_every_command_in_dutch_by_default_and_english_for_en() -> None:
    dutch = the_list(BotCommandScopeAllPrivateChats, None)
    english = the_list(BotCommandScopeAllPrivateChats, "en")
    assert list(dutch) == list(english) == list(COMMANDS)
    assert dutch["claim"] == "Een casus claimen"
    assert english["claim"] == "Take a case"
    assert dutch["help"] == "Wat je kunt doen" and english["help"] == "What you can do"


def test_groups_list_only_what_holds_no_personal_details() -> None:
    in_groups = [c.name for c in COMMANDS.values() if c.in_groups]
    for language in (None, "en"):
        assert list(the_list(BotCommandScopeAllGroupChats, language)) == in_groups
    assert "leavers" not in in_groups and "case" not in in_groups


def test_every_entry_is_a_valid_telegram_command() -> None:
    lists = command_lists()
    assert len(lists) == 4
    for command_list in lists:
        for command in command_list.commands:
            assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
            assert 1 <= len(command.description) <= 256


async def test_telegram_accepts_the_lists(bot: Bot, fake_telegram: FakeTelegram) -> None:
    for command_list in command_lists():
        assert await bot.set_my_commands(
            command_list.commands,
            scope=command_list.scope,
            language_code=command_list.language_code,
        )
    assert fake_telegram.failed() == []
    assert len(fake_telegram.commands) == 4
