"""The command lists Telegram shows in its menu, built from the core's one command table.

Registered with setMyCommands at start: for private chats every command, for groups only
those whose answer holds no personal details (`in_groups`); each list in Dutch by default
and in English for people whose Telegram speaks English (language_code "en").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)

from bot.core.commands import COMMANDS, Command
from bot.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, translator

MAX_DESCRIPTION = 256
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


@dataclass(frozen=True)
class CommandList:
    """One setMyCommands call: `language_code` None is the default list (Dutch)."""

    scope: BotCommandScope
    language_code: str | None
    commands: tuple[BotCommand, ...]


def description(command: Command, language: str) -> str:
    """What the command does, in `language`, as Telegram wants it: 1-256 characters."""
    text = translator(language)(command.help).strip() or command.name
    text = text[:1].upper() + text[1:]
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def bot_commands(commands: Iterable[Command], language: str) -> tuple[BotCommand, ...]:
    listed = []
    for command in commands:
        if not COMMAND_NAME.fullmatch(command.name):
            raise ValueError(f"/{command.name} cannot be a Telegram command")
        listed.append(BotCommand(command.name, description(command, language)))
    return tuple(listed)


def command_lists() -> list[CommandList]:
    """Every list to register: private chats and groups, each by default (Dutch) and per
    other language of the catalogue (English)."""
    scopes: list[tuple[BotCommandScope, list[Command]]] = [
        (BotCommandScopeAllPrivateChats(), list(COMMANDS.values())),
        (BotCommandScopeAllGroupChats(), [c for c in COMMANDS.values() if c.in_groups]),
    ]
    lists = []
    for scope, commands in scopes:
        lists.append(CommandList(scope, None, bot_commands(commands, DEFAULT_LANGUAGE)))
        for language in LANGUAGES:
            if language != DEFAULT_LANGUAGE:
                lists.append(CommandList(scope, language, bot_commands(commands, language)))
    return lists
