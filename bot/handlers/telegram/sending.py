"""Sending to Telegram: replies rendered (`render`) and sent, edits, photos for charts.

Buttons need callback data, which may be a token stored in the database (`callbacks`): a reply
with such a button is rendered in a worker thread with a session; one whose buttons all fit
their callback data takes no session, so it never waits for the database's write lock. The
pace is Telegram's (`pace`: one new message a second per chat, twenty a minute per group,
thirty a second overall; a person's own answer before the outbox's notices to others; a
429's RetryAfter waited out a few times): what still fails raises, and the outbox tries
again later.

In a group, a reply for everyone there with `updates` (a scan's voting message) is posted once
and then edited under its key, which the database remembers (`common.places`, as
"chat:message"), so the edits go on after a restart. Edits of one message are coalesced
(`common.edits`): at most one a second per chat, the last state wins. A place is a group and,
in a forum supergroup, its topic: what is for the place is posted in that topic.

A group that became a supergroup has a new chat id; a send to the old one fails with
ChatMigrated, which names the new id: the place (its scan and its remembered messages) moves
there (`places.move`) and the send goes to the new chat. A remembered message in the old
chat cannot be edited from the new one, so the next state is posted anew and remembered.

A message of the outbox whose send timed out after it left (Telegram may have accepted it
and answered too late) is sent again at most once: that second try waits
`RESEND_READ_TIMEOUT` for the answer, and if it times out too the message counts as sent
(`send`), rather than reaching the person a third and fourth time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import httpx
from cachetools import LRUCache
from sqlalchemy import Engine
from telegram import Bot, Message
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import BadRequest, ChatMigrated, TimedOut

from bot.core.messaging.attempts import SENDING
from bot.core.replies import Reply
from bot.handlers.common import places
from bot.handlers.common.edits import LatestEdits
from bot.handlers.common.pacing import Pacer
from bot.handlers.telegram import callbacks
from bot.handlers.telegram.render import PARSE_MODE, TelegramMessage, render
from bot.store.db import session_scope

log = logging.getLogger(__name__)

NOT_MODIFIED = "message is not modified"
RESEND_READ_TIMEOUT = 60.0  # seconds the one resend of a timed-out message waits for its answer


def message_ref(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def telegram_place(chat_id: int, thread_id: int | None = None) -> str:
    """The core's name of a Telegram group (and its forum topic) as a place."""
    return f"telegram:{chat_id}" if thread_id is None else f"telegram:{chat_id}:{thread_id}"


def parse_ref(ref: str) -> tuple[int, int]:
    chat, _, message = ref.partition(":")
    return int(chat), int(message)


class TelegramSender:
    def __init__(self, bot: Bot, engine: Engine) -> None:
        self.bot = bot
        self.engine = engine
        self._edits = LatestEdits(Pacer())  # edits of messages shown in groups
        # outbox ids whose send timed out after it left: their next try is the last
        self._uncertain: LRUCache[int, None] = LRUCache(maxsize=10_000)

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
        """The replies as messages. Only a button whose action does not fit its callback data
        needs the database (its token stored, on SQLite under the write lock, in a worker
        thread); without one, nothing waits for the database."""
        if all(callbacks.fits(b.action) for reply in replies for b in reply.buttons):
            return [message for reply in replies for message in render(reply, callback_data=str)]
        return await asyncio.to_thread(self._render_now, replies)

    async def _send_one(
        self,
        chat_id: int,
        message: TelegramMessage,
        thread_id: int | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> Message:
        if message.document is not None:
            return await self.bot.send_document(
                chat_id,
                document=message.document,
                filename=message.document_name,
                message_thread_id=thread_id,
                read_timeout=read_timeout,
            )
        if message.photo is not None:
            return await self.bot.send_photo(
                chat_id,
                photo=message.photo,
                caption=message.text or None,
                parse_mode=PARSE_MODE,
                reply_markup=message.reply_markup,
                message_thread_id=thread_id,
                read_timeout=read_timeout,
            )
        return await self.bot.send_message(
            chat_id,
            message.text,
            parse_mode=PARSE_MODE,
            reply_markup=message.reply_markup,
            message_thread_id=thread_id,
            read_timeout=read_timeout,
        )

    async def post(
        self,
        chat_id: int,
        replies: Sequence[Reply],
        thread_id: int | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> list[int]:
        """Send `replies` to the chat (in a forum, to its topic `thread_id`), in order; the
        ids of the messages sent."""
        sent: list[int] = []
        for message in await self.rendered(replies):
            shown = await self._send_one(chat_id, message, thread_id, read_timeout)
            sent.append(shown.message_id)
        return sent

    async def in_group(
        self, chat_id: int, replies: Sequence[Reply], thread_id: int | None = None
    ) -> None:
        """Replies shown in a group (in its topic `thread_id`), in order (the privacy rule
        already applied): each is posted, except one for the place with `updates`, which
        edits the message showing its key once that was posted. A group that became a
        supergroup: the place moves with it, and the replies go there."""
        try:
            await self._in_group(chat_id, replies, thread_id)
        except ChatMigrated as moved:
            new_chat_id = int(moved.new_chat_id)
            await self.moved(chat_id, new_chat_id)
            await self._in_group(new_chat_id, replies, thread_id)

    async def moved(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group `old_chat_id` is now the supergroup `new_chat_id`: its places follow."""
        await asyncio.to_thread(
            places.move, self.engine, telegram_place(old_chat_id), telegram_place(new_chat_id)
        )
        log.info("telegram: a group became a supergroup; its place moved with it")

    async def _in_group(
        self, chat_id: int, replies: Sequence[Reply], thread_id: int | None
    ) -> None:
        for reply in replies:
            if reply.to_place and reply.updates is not None:
                await self._show_updated(chat_id, reply.updates, reply, thread_id)
            else:
                await self.post(chat_id, [reply], thread_id)

    async def _show_updated(
        self, chat_id: int, key: str, reply: Reply, thread_id: int | None
    ) -> None:
        where = telegram_place(chat_id, thread_id)
        ref = await asyncio.to_thread(places.shown_at, self.engine, key, where)
        if ref is not None and parse_ref(ref)[0] == chat_id:
            shown_chat, message_id = parse_ref(ref)

            async def update() -> None:
                try:
                    await self.edit_message(shown_chat, message_id, reply)
                except ChatMigrated as moved:  # shown in the group it was before: post anew
                    new_chat_id = int(moved.new_chat_id)
                    await self.moved(shown_chat, new_chat_id)
                    await self._show_updated(new_chat_id, key, reply, thread_id)

            self._edits.show(key, shown_chat, update)
            return
        # never shown here, or shown in the chat this group was before it became a supergroup
        ids = await self.post(chat_id, [reply], thread_id)
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
        outbox_id = SENDING.get()
        again = outbox_id is not None and outbox_id in self._uncertain
        try:
            ids = await self.post(
                chat_id, [reply], read_timeout=RESEND_READ_TIMEOUT if again else DEFAULT_NONE
            )
        except TimedOut as exc:
            if outbox_id is None or not _may_have_arrived(exc):
                raise
            if not again:
                self._uncertain[outbox_id] = None
                raise  # the outbox tries once more
            self._uncertain.pop(outbox_id, None)
            log.warning("telegram: outbox %s timed out twice; counted as sent", outbox_id)
            return None
        if outbox_id is not None and again:
            self._uncertain.pop(outbox_id, None)
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


def _may_have_arrived(exc: TimedOut) -> bool:
    """Whether a timed-out request may have reached Telegram: not when it never got a
    connection (connect or pool timeout), only when its answer did not come in time."""
    cause = exc.__cause__
    return not isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout) and (
        "Pool timeout" not in str(exc)
    )
