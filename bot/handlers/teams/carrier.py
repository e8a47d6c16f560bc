"""How Teams carries out the reply plan (`common.plan.Carrier`): the primitives, and no
decision of where a reply goes.

`here` is the conversation the activity came from (the personal chat, or the channel or
group chat, in its thread); `privately` is the person's personal chat with the bot, stored
(`references`) or opened for them (`sending.TeamsSender`); when that cannot be had (no app
installed for them: no conversation, a 403 or 404) it is `CannotWritePrivately`. `in_place`
is a channel or group chat by its place name, "teams:CONVERSATION", where a reply with
`updates` updates the card showing it. `alone`, a vote's own answer, goes to the voter's
personal chat, quietly left out when the bot cannot write there (it holds nothing personal).
Teams has no callback query to acknowledge (a card's Action.Submit is a message); its forms
of its own are cards with inputs (`forms`), shown in the personal chat.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import ClientResponseError
from microsoft_agents.hosting.core import TurnContext

from bot.core.app import Core
from bot.core.replies import Reply
from bot.handlers.common.forms import opening
from bot.handlers.common.plan import CannotWritePrivately
from bot.handlers.common.who import Who
from bot.handlers.teams import forms, references
from bot.handlers.teams.failures import NoConversation
from bot.handlers.teams.sending import TeamsSender

log = logging.getLogger(__name__)

TRANSPORT = "teams"


class TeamsCarrier:
    """The primitives for one activity (`context`): a message typed, or a card's button
    pressed (an Action.Submit comes as a message replying to the card)."""

    ephemeral = False  # a channel's messages are seen by everyone there

    def __init__(self, core: Core, sender: TeamsSender, context: TurnContext) -> None:
        self.core = core
        self.sender = sender
        self.context = context
        activity = context.activity
        self.personal = references.is_personal(activity)
        conversation = activity.conversation
        self.conversation_id = conversation.id if conversation is not None else ""
        object_id = getattr(activity.from_property, "aad_object_id", None) or ""
        self.personal_key = references.user_key(object_id)

    @property
    def card(self) -> str | None:
        """The card the button sat on, as the outbox records it (its activity id), in the
        personal chat only: a card is never shown in a channel."""
        return self.context.activity.reply_to_id if self.personal else None

    @property
    def acknowledged(self) -> bool:
        return True  # nothing to acknowledge on Teams

    async def acknowledge(self, text: str | None = None) -> None:
        return None

    async def here(self, replies: list[Reply]) -> None:
        await self.sender.post(replies, context=self.context)

    async def privately(self, replies: list[Reply]) -> None:
        if self.personal:
            await self.here(replies)
            return
        try:
            await self.sender.post(replies, key=self.personal_key)
        except NoConversation as exc:
            raise CannotWritePrivately from exc
        except ClientResponseError as exc:
            if exc.status in (403, 404):  # the app is not installed for them
                raise CannotWritePrivately from exc
            raise

    async def in_place(self, place: str, replies: list[Reply]) -> None:
        """For everyone in `place`; a file among the replies (a scan's report) is offered to
        the asker in their personal chat, as Teams gives files nowhere else."""
        here = not self.personal and references.place_name(self.conversation_id) == place
        files = [Reply(file=r.file, file_name=r.file_name) for r in replies if r.file]
        shown = [r.model_copy(update={"file": None, "file_name": None}) for r in replies]
        await self.sender.in_place(
            shown,
            context=self.context if here else None,
            key=references.conversation_key(place.removeprefix(references.place_name(""))),
            place=place,
        )
        if files:
            t = await self.sender.translator(self.context)
            try:
                await self.privately(files)
            except CannotWritePrivately:
                note = t("Files I can only give in a personal chat: ask me for it there.")
            else:
                note = t("I have offered you the file in our personal chat.")
            if not self.personal:
                await self.here([Reply(text=note)])

    async def alone(self, replies: list[Reply]) -> None:
        try:
            await self.privately(replies)
        except CannotWritePrivately:  # their mark stands; the answer holds nothing personal
            log.info("teams: cannot write privately to a voter; their answer left out")

    async def open_form(self, command: str, args: str, who: Who) -> bool:
        """The command's form as one card with inputs, in the personal chat (or the core's
        refusal when it is about a case they may not do that to now)."""
        if not self.personal:
            return False
        shown = forms.card_form(who, f"/{command} {args}".strip())
        if shown is None:
            return False
        form_name, typed = shown
        opened = await asyncio.to_thread(
            opening, self.core, who, form_name, typed, transport=TRANSPORT
        )
        if isinstance(opened, Reply):
            await self.here([opened])
        else:
            await self.sender.post_card(self.context, forms.form_card(who.t, opened))
        return True

    async def edit_card(self, reply: Reply) -> None:
        card = self.card
        if card is not None:
            await self.sender.update(self.context, card, reply)
