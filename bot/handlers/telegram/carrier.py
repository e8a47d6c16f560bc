"""How Telegram carries out the reply plan (`common.plan.Carrier`): the primitives, and no
decision of where a reply goes.

`here` is the chat (and forum topic) where the person wrote or pressed; `privately` is their
private chat with the bot (a 403 there: they never started one, `CannotWritePrivately`);
`in_place` is a group (and topic) by its place name, "telegram:CHAT[:TOPIC]"; `alone` is the
callback query's answer, seen by the presser alone, when the replies are short text, else
their private chat (quietly left out when the bot cannot write there: a vote's question holds
nothing personal). A button's callback query is answered once (`acknowledge`); Telegram has no
ephemeral messages, nor forms of its own.
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden

from bot.core.replies import Reply
from bot.handlers.common.plan import CannotWritePrivately
from bot.handlers.common.who import Who
from bot.handlers.telegram.answers import FirstAnswers
from bot.handlers.telegram.sending import TelegramSender, message_ref

log = logging.getLogger(__name__)

MAX_ANSWER = 200  # characters of answerCallbackQuery's text
PLACE_PREFIX = "telegram:"


def group_of(place: str) -> tuple[int, int | None]:
    """The chat id and forum topic of a place named by `sending.telegram_place`."""
    chat, _, topic = place.removeprefix(PLACE_PREFIX).partition(":")
    return int(chat), int(topic) if topic else None


class TelegramCarrier:
    """The primitives for one update: a message in `chat_id` (topic `thread_id`) from
    `user_id`, or, with `callback_query_id`, a button pressed on message `message_id`."""

    ephemeral = False  # a group's messages are seen by everyone there

    def __init__(
        self,
        bot: Bot,
        sender: TelegramSender,
        *,
        user_id: int,
        chat_id: int,
        thread_id: int | None = None,
        callback_query_id: str | None = None,
        message_id: int | None = None,
        in_private: bool = True,
        first: FirstAnswers | None = None,
    ) -> None:
        self.bot = bot
        self.sender = sender
        self.user_id = user_id
        self.chat_id = chat_id
        self.thread_id = thread_id
        self.callback_query_id = callback_query_id
        self.message_id = message_id
        self.in_private = in_private
        self.first = first  # presses answered as soon as they arrived (`answers`)
        self._answered = callback_query_id is None
        self._answer: str | None = None  # the presser's own answer, said `alone`

    @property
    def card(self) -> str | None:
        """The message the button sat on, as the outbox records it (a private chat's only:
        a card is never shown in a group)."""
        if self.message_id is None or not self.in_private:
            return None
        return message_ref(self.chat_id, self.message_id)

    @property
    def acknowledged(self) -> bool:
        return self._answered

    async def here(self, replies: list[Reply]) -> None:
        await self.sender.post(self.chat_id, replies, self.thread_id)

    async def privately(self, replies: list[Reply]) -> None:
        try:
            await self.sender.post(self.user_id, replies)
        except Forbidden as exc:  # they never started a chat with the bot, or blocked it
            raise CannotWritePrivately from exc

    async def in_place(self, place: str, replies: list[Reply]) -> None:
        chat_id, thread_id = group_of(place)
        await self.sender.in_group(chat_id, replies, thread_id)

    async def alone(self, replies: list[Reply]) -> None:
        short = [r for r in replies if _only_text(r)]  # their mark: the callback's answer
        answer = "\n".join(r.text for r in short)
        rest = [r for r in replies if not _only_text(r)]  # a question with buttons
        if len(answer) > MAX_ANSWER:
            answer, rest = "", replies
        self._answer = answer or None
        if rest:
            try:
                await self.sender.post(self.user_id, rest)
            except Forbidden:  # no private chat with the bot yet: not asked
                log.info("telegram: cannot write privately to a voter; question left out")

    async def open_form(self, command: str, args: str, who: Who) -> bool:
        return False  # Telegram has no forms of its own: the conversation asks

    async def edit_card(self, reply: Reply) -> None:
        if self.message_id is not None:
            await self.sender.edit_message(self.chat_id, self.message_id, reply)

    async def acknowledge(self, text: str | None = None) -> None:
        if self._answered or self.callback_query_id is None:
            return
        self._answered = True
        if self.first is not None and await self.first.answered(self.callback_query_id):
            return  # answered as soon as it arrived, with nothing to say
        said = text or self._answer  # a failure, else the presser's own answer
        try:
            await self.bot.answer_callback_query(
                self.callback_query_id, text=said[:MAX_ANSWER] if said else None
            )
        except BadRequest as exc:  # answered before a restart, or too old: the work goes on
            log.info("telegram: a button's answer was refused (%s)", type(exc).__name__)


def _only_text(reply: Reply) -> bool:
    """Whether the reply is its text alone, so a callback query's answer can show it whole."""
    return not (
        reply.title or reply.fields or reply.lines or reply.buttons or reply.image_png or reply.file
    )
