"""Which commands and buttons continue in the private chat.

A guided conversation asks its questions one by one and reads the answers people type, and a
platform sends the bot those answers only from the private chat (and they hold personal
details). So the replies of a command that starts one (the table's `conversation` flag), of
the conversation's own buttons ("form:…") and of a button that runs such a command
("cmd:leaver") belong in the private chat, wherever the command was typed or the button
pressed.
"""

from __future__ import annotations

from bot.core.commands import COMMAND_BUTTON, COMMANDS, FORM_BUTTON


def starts_conversation(command: str) -> bool:
    found = COMMANDS.get(command)
    return found is not None and found.conversation


def continues_in_private(action: str) -> bool:
    """Whether the replies to the button `action` belong in the private chat."""
    kind, _, rest = action.partition(":")
    if kind == FORM_BUTTON:
        return True
    return kind == COMMAND_BUTTON and starts_conversation(rest.split(" ", 1)[0].casefold())
