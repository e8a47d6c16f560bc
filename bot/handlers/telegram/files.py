"""A file of leavers (CSV or Excel workbook) sent as a document in the private chat: fetched
(getFile, then the file itself from TELEGRAM_API_URL's file root) and handed to the core's
import whole, with its name and caption (which may name a workbook's sheet). A document that
cannot be a table by its name, or is over the limit by its size, is refused unfetched, as on
Slack."""

from __future__ import annotations

import asyncio
from typing import Protocol

from telegram import Bot

from bot.core.app import Core
from bot.core.replies import Reply
from bot.handlers.common.files import MAX_CSV_BYTES, may_be_a_table, not_a_table, too_large
from bot.handlers.common.who import Who
from bot.handlers.telegram.inbound import DocumentShared
from bot.handlers.telegram.sending import TelegramSender

TRANSPORT = "telegram"


class _Application(Protocol):
    @property
    def bot(self) -> Bot: ...


class Receiver(Protocol):
    """What taking a document needs of the Telegram bot (`TelegramBot` is one): the core, the
    sender for the answers and the Bot API to fetch the file with."""

    @property
    def core(self) -> Core: ...

    @property
    def sender(self) -> TelegramSender: ...

    @property
    def app(self) -> _Application: ...


async def receive_document(bot: Receiver, event: DocumentShared, who: Who) -> None:
    t = who.t

    async def tell(text: str) -> None:
        await bot.sender.post(event.chat_id, [Reply(text=text, error=True)])

    if not who.may_register:
        await tell(t("/{name} is not for your role. Type /help.", name="leaver"))
        return
    if not may_be_a_table(event.file_name):  # a picture, a video: not fetched at all
        await tell(not_a_table(t, event.file_name))
        return
    if event.file_size > MAX_CSV_BYTES:
        await tell(too_large(t))
        return
    found = await bot.app.bot.get_file(event.file_id)
    if found.file_size is not None and found.file_size > MAX_CSV_BYTES:
        await tell(too_large(t))
        return
    data = bytes(await found.download_as_bytearray())
    if len(data) > MAX_CSV_BYTES:
        await tell(too_large(t))
        return
    replies = await asyncio.to_thread(
        bot.core.handle_file,
        person_id=who.id,
        data=data,
        transport=TRANSPORT,
        filename=event.file_name,
        text=event.caption,
    )
    await bot.sender.post(event.chat_id, replies)
