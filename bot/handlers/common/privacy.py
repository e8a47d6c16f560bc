"""Where a reply may be shown: the one rule every transport obeys.

A reply marked `personal` (it holds details of a young person) is shown only in a private
place: the person's private chat with the bot, or what only they can see (Slack's App Home
and ephemeral answers count). In a public place (a channel, a group) the rest is shown there,
each personal reply goes to the person's private chat instead, and a short note in the public
place says so; when the bot cannot write to them privately yet (Telegram, until they start a
chat with it), the note asks them to start one, and the personal replies are not shown at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.i18n import N_, Translator
from bot.core.replies import Reply

SENT_PRIVATELY = N_("I sent you the details in a private message.")
START_PRIVATE_CHAT = N_(
    "That answer holds personal details, so I only give it in a private chat. "
    "Start a private chat with me, then ask again."
)


@dataclass(frozen=True)
class Placed:
    """What goes where: `here` to the place the person spoke in, `private` to their private
    chat with the bot."""

    here: list[Reply] = field(default_factory=list)
    private: list[Reply] = field(default_factory=list)


def place(
    replies: Sequence[Reply],
    *,
    private_here: bool,
    t: Translator,
    can_write_privately: bool = True,
) -> Placed:
    """Split `replies` for a place that is private (`private_here`) or not.

    The note stands where the first personal reply would have been, once."""
    if private_here:
        return Placed(here=list(replies))
    here: list[Reply] = []
    private: list[Reply] = []
    noted = False
    for reply in replies:
        if not reply.personal:
            here.append(reply)
            continue
        if not noted:
            note = SENT_PRIVATELY if can_write_privately else START_PRIVATE_CHAT
            here.append(Reply(text=t(note)))
            noted = True
        if can_write_privately:
            private.append(reply)
    return Placed(here=here, private=private)
