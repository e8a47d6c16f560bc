"""How Slack carries out the reply plan (`common.plan.Carrier`): the primitives, and no
decision of where a reply goes.

`here` is what only the asker sees where they asked: the ephemeral answer through the
response_url (to a slash command, anywhere; to a button outside the bot's own direct
message, also in a direct message between two people, where the bot cannot post), a message
in the bot's direct message with them (a button pressed there), or that direct message when
there is nothing else (a button in the App Home or a modal). Since an ephemeral answer is
seen by the asker alone, Slack is `ephemeral`: in a channel, the person's own replies are
answered `here` and only the replies for everyone are posted there (`in_place`, where a
request to invite the bot is the answer when it is not a member). `privately` is the bot's
direct message with them; `alone` is `here`. A form is a modal (`modals`). The listener
acknowledged before the work, so `acknowledge` has nothing left to do; the cards the bot
sent are edited by the outbox, and one shown in an ephemeral answer cannot be edited, so
Slack names no `card`.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncRespond

from bot.core.commands import COMMANDS
from bot.core.i18n import Translator
from bot.core.replies import Reply
from bot.handlers.common.who import Who
from bot.handlers.slack.modals import SlackModals
from bot.handlers.slack.sending import NotInChannel, SlackSender

log = logging.getLogger(__name__)

PLACE_PREFIX = "slack:"


class SlackCarrier:
    """The primitives for one command or button of `user`, who asked in `channel` ("" in a
    view); `respond` answers ephemerally (None: no response_url, a button of the App Home)."""

    ephemeral = True
    card = None
    acknowledged = True  # bolt's listener acknowledged before the work

    def __init__(
        self,
        sender: SlackSender,
        modals: SlackModals,
        *,
        user: str,
        channel: str,
        respond: AsyncRespond | None,
        trigger_id: str,
        t: Translator,
        pressed: bool = False,
    ) -> None:
        self.sender = sender
        self.modals = modals
        self.user = user
        self.channel = channel
        self.respond = respond
        self.trigger_id = trigger_id
        self.t = t  # the asker's language, or the region's until they are known
        self.pressed = pressed

    async def here(self, replies: list[Reply]) -> None:
        if self.pressed and await self._in_our_dm():  # our direct message: answer there
            await self.sender.post(self.channel, replies, user=self.user, t=self.t)
        elif self.respond is not None:  # elsewhere, also another direct message: ephemeral
            await self.sender.answer_ephemeral(self.respond, self.user, replies)
        else:  # the App Home, or a modal
            await self.sender.send_all(self.user, replies)

    async def _in_our_dm(self) -> bool:
        """Whether the button was pressed in the bot's own direct message with the person.

        A "D" channel is not enough: an ephemeral answer to a slash command typed in a direct
        message between two people has buttons too, and the bot cannot post there."""
        if not self.channel.startswith("D"):
            return False
        return self.channel == await self.sender.dm_channel(self.user)

    async def privately(self, replies: list[Reply]) -> None:
        await self.sender.send_all(self.user, replies)

    async def in_place(self, place: str, replies: list[Reply]) -> None:
        channel = place.removeprefix(PLACE_PREFIX)
        try:
            await self.sender.to_place(channel, replies, user=self.user, t=self.t)
        except NotInChannel:
            log.info("slack: not a member of a channel where a message was due")
            text = self.t(
                "I am not a member of this channel, so I cannot post here. "
                "Invite me with /invite @Vangnet, then try again."
            )
            await self.here([Reply(text=text, error=True)])

    async def alone(self, replies: list[Reply]) -> None:
        await self.here(replies)

    async def open_form(self, command: str, args: str, who: Who) -> bool:
        return await self.modals.open(
            COMMANDS[command], args, self.trigger_id, who, self.here, user=self.user
        )

    async def edit_card(self, reply: Reply) -> None:
        """Never asked: Slack names no `card` (the outbox edits the cards it sent)."""

    async def acknowledge(self, text: str | None = None) -> None:
        return None
