"""Sending to Telegram: replies rendered (`render`) and sent, edits, photos for charts.

Buttons need callback data, which may be a token stored in the database (`callbacks`), so a
reply is rendered in a worker thread with a session. Rate limits are python-telegram-bot's
AIORateLimiter's (30 messages a second overall, one a second per chat, twenty a minute per
group; a 429's RetryAfter waited out a few times): what still fails raises, and the outbox
tries again later.

In a group, a reply for everyone there with `updates` (a scan's voting message) is posted once
and then edited under its key, which the database remembers (`common.places`, as
"chat:message"), so the edits go on after a restart. Edits of one message are coalesced
(`common.edits`): at most one a second per chat, the last state wins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy import Engine
from telegram import Bot, Message
from telegram.error import BadRequest

from bot.core.replies import Reply
from bot.handlers.common import places
from bot.handlers.common.edits import LatestEdits
from bot.handlers.common.pacing import Pacer
from bot.handlers.telegram import callbacks
from bot.handlers.telegram.render import PARSE_MODE, TelegramMessage, render
from bot.store.db import session_scope

log = logging.getLogger(__name__)

NOT_MODIFIED = "message is not modified"


def message_ref(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def telegram_place(chat_id: int) -> str:
    """The core's name of a Telegram group as a place."""
    return f"telegram:{chat_id}"


def parse_ref(ref: str) -> tuple[int, int]:
    chat, _, message = ref.partition(":")
    return int(chat), int(message)


class TelegramSender:
    def __init__(self, bot: Bot, engine: Engine) -> None:
        self.bot = bot
        self.engine = engine
        self._edits = LatestEdits(Pacer())  # edits of messages shown in groups

    def _render_now(self, replies: Sequence[Reply]) -> list[TelegramMessage]:
        with session_scope(self.engine) as session:
            return [
                message
                for reply in replies
                for message in render(
                    reply, callback_data=lambda action: callbacks.callback_data(session, action)
                )
            ]

    async def rendered(self, replies: Sequence[Reply]) -> list[TelegramMessage]:
        return await asyncio.to_thread(self._render_now, replies)

    async def _send_one(self, chat_id: int, message: TelegramMessage) -> Message:
        if message.document is not None:
            return await self.bot.send_document(
                chat_id, document=message.document, filename=message.document_name
            )
        if message.photo is not None:
            return await self.bot.send_photo(
                chat_id,
                photo=message.photo,
                caption=message.text or None,
                parse_mode=PARSE_MODE,
                reply_markup=message.reply_markup,
            )
        return await self.bot.send_message(
            chat_id, message.text, parse_mode=PARSE_MODE, reply_markup=message.reply_markup
        )

    async def post(self, chat_id: int, replies: Sequence[Reply]) -> list[int]:
        """Send `replies` to the chat, in order; the ids of the messages sent."""
        sent: list[int] = []
        for message in await self.rendered(replies):
            sent.append((await self._send_one(chat_id, message)).message_id)
        return sent

    async def in_group(self, chat_id: int, replies: Sequence[Reply]) -> None:
        """Replies shown in a group, in order (the privacy rule already applied): each is
        posted, except one for the place with `updates`, which edits the message showing its
        key once that was posted."""
        for reply in replies:
            if reply.to_place and reply.updates is not None:
                await self._show_updated(chat_id, reply.updates, reply)
            else:
                await self.post(chat_id, [reply])

    async def _show_updated(self, chat_id: int, key: str, reply: Reply) -> None:
        where = telegram_place(chat_id)
        ref = await asyncio.to_thread(places.shown_at, self.engine, key, where)
        if ref is not None:
            shown_chat, message_id = parse_ref(ref)

            async def update() -> None:
                await self.edit_message(shown_chat, message_id, reply)

            self._edits.show(key, shown_chat, update)
            return
        ids = await self.post(chat_id, [reply])
        if ids:
            ref = message_ref(chat_id, ids[0])
            await asyncio.to_thread(places.remember, self.engine, key, where, ref)

    async def flush(self) -> None:
        """Wait until every edit waiting for its turn is shown (before stopping)."""
        await self._edits.flush()

    async def send(self, address: str, reply: Reply) -> str | None:
        """One reply to a person's private chat (the outbox's way out): "chat:message" of its
        first message, so that it can be edited later."""
        chat_id = int(address)
        ids = await self.post(chat_id, [reply])
        return message_ref(chat_id, ids[0]) if ids else None

    async def edit(self, address: str, ref: str, reply: Reply) -> None:
        """Change a message sent earlier to show `reply` (its first message: an edit cannot
        add messages)."""
        chat_id, message_id = parse_ref(ref)
        await self.edit_message(chat_id, message_id, reply)

    async def edit_message(self, chat_id: int, message_id: int, reply: Reply) -> None:
        message = (await self.rendered([reply]))[0]
        try:
            if message.photo is not None:
                await self.bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=message_id,
                    caption=message.text or None,
                    parse_mode=PARSE_MODE,
                    reply_markup=message.reply_markup,
                )
                return
            await self.bot.edit_message_text(
                message.text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=PARSE_MODE,
                reply_markup=message.reply_markup,
            )
        except BadRequest as exc:
            if NOT_MODIFIED not in str(exc).casefold():
                raise
            log.info("telegram: an edit changed nothing")
