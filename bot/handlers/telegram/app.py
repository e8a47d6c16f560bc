"""The Telegram bot: python-telegram-bot's Application with one handler around the core.

Every update is recorded before Telegram is told it arrived and taken once by its update_id
(`inbox`: a webhook delivers an update again when it was not acknowledged in time), handled
concurrently with other chats' and in order within its chat (`updates.InOrderPerChat`),
translated (`inbound`), and handed to the reply plan (`common.plan`), which decides where
each reply goes; `carrier` carries that out on Telegram:

- a line typed in the private chat (a command or a conversation's answer), a command in a
  group, a button: the plan (in a group, by the privacy rule: personal replies go to the
  person's private chat with a short note in the group, or a note asking them to start one
  when the bot cannot write to them yet, 403; the scan's buttons pressed there are answered
  to the presser alone in the callback query's answer; a Claim pressed on a card shows the
  card as the case is now, once); a press whose answer says nothing the work will is
  answered as soon as it arrives, before it waits for its chat's turn (`answers`);
- `/start` without an invite → a welcome and /help; `/start TOKEN` (an invite link) → the
  invite is redeemed (`bot.core.invites`);
- a CSV document in the private chat → `files`, then the core's import; a photo, sticker,
  voice message or video there → a short note of what the bot reads;
- in a forum supergroup, a command or button in a topic is answered in that topic, which is
  a place of its own (`sending.telegram_place`);
- a group that became a supergroup → its places move to the new chat id (`sending.moved`);
- a command of an anonymous admin (posting as the group) → asked to turn that off or write
  privately; channel posts in a discussion group are not for the bot.

Anyone not in the directory gets the polite refusal and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.core.app import Core
from bot.core.commands import for_the_place
from bot.core.i18n import Translator, translator
from bot.core.replies import Reply
from bot.handlers.common import calls, plan
from bot.handlers.common.who import Who, who_by_telegram
from bot.handlers.telegram import callbacks, inbound, inbox
from bot.handlers.telegram.answers import FirstAnswers
from bot.handlers.telegram.carrier import TelegramCarrier
from bot.handlers.telegram.files import receive_document
from bot.handlers.telegram.inbound import (
    AnonymousAdmin,
    CallbackPress,
    DocumentShared,
    GroupMessage,
    GroupMigrated,
    MediaShared,
    PrivateMessage,
    StartWithPayload,
    Unsupported,
)
from bot.handlers.telegram.pace import TelegramPace
from bot.handlers.telegram.sending import TelegramSender, telegram_place
from bot.handlers.telegram.updates import InOrderPerChat, RecordingBot, parse
from bot.logs import log_failure
from bot.store.db import session_scope

log = logging.getLogger(__name__)

TRANSPORT = "telegram"
# seconds a call waits for Telegram's answer (python-telegram-bot's default)
SEND_READ_TIMEOUT = 5.0


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """PTB's Application for TELEGRAM_BOT_TOKEN at TELEGRAM_API_URL, at Telegram's pace
    (`pace`)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    root = settings.telegram_api_url.rstrip("/")
    bot = RecordingBot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=HTTPXRequest(connection_pool_size=256, read_timeout=SEND_READ_TIMEOUT),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        rate_limiter=TelegramPace(),  # Telegram's limits; a person's own answer first
    )
    return Application.builder().bot(bot).concurrent_updates(InOrderPerChat()).build()


class TelegramBot:
    def __init__(self, core: Core, settings: Settings) -> None:
        self.core = core
        self.app = build_application(settings)
        self.sender = TelegramSender(self.app.bot, core.engine)
        self.first = FirstAnswers(self.app.bot, self._answers_at_once)
        self.app.add_handler(TypeHandler(Update, self.on_update))
        self.app.add_error_handler(self.on_error)

    # --- the outbox's way out -----------------------------------------------------------

    async def send(self, address: str, reply: Reply, *, outbox_id: int | None = None) -> str | None:
        return await self.sender.send(address, reply, outbox_id=outbox_id)

    async def edit(self, address: str, ref: str, reply: Reply) -> None:
        await self.sender.edit(address, ref, reply)

    # --- helpers ------------------------------------------------------------------------

    @property
    def username(self) -> str:
        return str(self.app.bot.username)

    async def who(self, user_id: int) -> Who | None:
        found = await asyncio.to_thread(
            who_by_telegram, self.core.engine, user_id, self.core.default_language
        )
        if found is not None:
            self.first.seen(user_id)  # their next press is answered without a read
        return found

    def _t(self, who: Who | None) -> Translator:
        return who.t if who else translator(self.core.default_language)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error or RuntimeError("unknown")
        log_failure(log, "telegram: failed while handling an update", exc=error)

    async def record(self, updates: Sequence[Mapping[str, Any]]) -> None:
        """Write updates to the database before Telegram is told they arrived (`inbox`);
        meanwhile a press among them is answered at once when it may be (`answers`)."""
        for data in updates:
            self.first.begin(data)
        await asyncio.to_thread(inbox.record, self.core.engine, updates)

    async def process(self, data: Mapping[str, Any]) -> None:
        """One update as Telegram sends it (a webhook's body): recorded, then into the
        Application (one python-telegram-bot cannot read becomes a bare update: skipped)."""
        await self.record([data])
        await self.hand_on(data)

    async def hand_on(self, data: Mapping[str, Any]) -> None:
        """A recorded update into the Application's queue."""
        await self.app.update_queue.put(parse(data, self.app.bot))

    # --- the handler --------------------------------------------------------------------

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        engine = self.core.engine
        if not await asyncio.to_thread(inbox.take, engine, update.update_id):
            log.info("telegram: update %s delivered again; not processed twice", update.update_id)
            return
        try:
            await self._handle(update)
        finally:
            await asyncio.to_thread(inbox.done, engine, update.update_id)

    async def _handle(self, update: Update) -> None:
        event = inbound.translate(update.to_dict(), bot_username=self.username)
        if isinstance(event, Unsupported):
            if event.callback_query_id is not None:
                await self.app.bot.answer_callback_query(event.callback_query_id)
            return
        if isinstance(event, GroupMigrated):
            await self.sender.moved(event.old_chat_id, event.new_chat_id)
            return
        if isinstance(event, AnonymousAdmin):
            await self._anonymous(event)
            return
        carrier = self._carrier(event)
        known, who = await plan.identify(
            lambda: self.who(event.user_id), carrier, self._t(None), kind="telegram"
        )
        if not known:
            return
        if isinstance(event, CallbackPress):
            await self._press(event, who, carrier)
            return
        if isinstance(event, GroupMessage) or (
            isinstance(event, PrivateMessage) and event.command != "start"
        ):
            asked = plan.Asked(line=event.text, place=_place_of(event))
            await plan.answer(self.core, who, asked, carrier, transport=TRANSPORT)
            return
        try:
            await self._route(event, who)
        except Exception as exc:
            log_failure(log, "telegram: %s failed", type(event).__name__, exc=exc)
            await plan.tell_failure(carrier, self._t(who), exc)

    def _carrier(
        self,
        event: PrivateMessage
        | GroupMessage
        | StartWithPayload
        | DocumentShared
        | MediaShared
        | CallbackPress,
    ) -> TelegramCarrier:
        if isinstance(event, CallbackPress):
            return TelegramCarrier(
                self.app.bot,
                self.sender,
                user_id=event.user_id,
                chat_id=event.chat_id,
                thread_id=event.thread_id,
                callback_query_id=event.callback_query_id,
                message_id=event.message_id,
                in_private=event.in_private,
                first=self.first,
            )
        return TelegramCarrier(
            self.app.bot,
            self.sender,
            user_id=event.user_id,
            chat_id=event.chat_id,
            thread_id=_thread(event),
            in_private=not isinstance(event, GroupMessage),
        )

    async def _anonymous(self, event: AnonymousAdmin) -> None:
        """A command of an admin who posts as the group: whose it is cannot be known, so it is
        not run; they are told how to go on (in the group's language, as nobody is known)."""
        t = translator(self.core.default_language)
        text = t(
            "I cannot tell who you are while you write as the group's anonymous admin: "
            "turn anonymous admin off or write to me privately."
        )
        await self.sender.in_group(event.chat_id, [Reply(text=text)], event.thread_id)

    async def _route(
        self,
        event: PrivateMessage | StartWithPayload | DocumentShared | MediaShared,
        who: Who | None,
    ) -> None:
        """What is Telegram's own: an invite link, `/start`, a document, a photo."""
        if isinstance(event, StartWithPayload):
            await self._invite(event, who)
            return
        if who is None:
            await self.sender.post(event.chat_id, [self.core.not_registered()])
            return
        if isinstance(event, DocumentShared):
            await receive_document(self, event, who)
        elif isinstance(event, MediaShared):
            hint = who.t(
                "I read text, and files of leavers as CSV or Excel (.xlsx); a photo, sticker, "
                "voice message or video I cannot read. Type /help to see what I can do."
            )
            await self.sender.post(event.chat_id, [Reply(text=hint)])
        else:  # /start without an invite
            welcome = Reply(text=who.t("Welcome to Vangnet, {name}.", name=who.name))
            helping = await calls.typed(self.core, who, "/help", transport=TRANSPORT)
            await self.sender.post(event.chat_id, [welcome, *helping])

    async def _invite(self, event: StartWithPayload, who: Who | None) -> None:
        from bot.core import invites

        replies = await asyncio.to_thread(
            invites.redeem,
            self.core.engine,
            token=event.token,
            telegram_id=event.user_id,
            language=who.language if who else self.core.default_language,
        )
        await self.sender.post(event.chat_id, replies)

    async def _press(self, event: CallbackPress, who: Who | None, carrier: TelegramCarrier) -> None:
        """A button pressed: the plan answers its callback query once, before the work
        whenever the answer needs nothing the work says (the presser's button stops spinning
        at once), else with it (a mark in a scan, a failure)."""
        action: str | None = event.data
        if who is not None:
            try:
                action = await asyncio.to_thread(self._action_of, event.data)
            except Exception as exc:
                log_failure(log, "telegram: a button failed", exc=exc)
                await plan.tell_failure(carrier, who.t, exc)
                return
            if action is None:
                await carrier.acknowledge(who.t("That button no longer works. Type /help."))
                return
        place_name = None if event.in_private else telegram_place(event.chat_id, event.thread_id)
        asked = plan.Asked(action=action, place=place_name)
        await plan.answer(self.core, who, asked, carrier, transport=TRANSPORT)

    def _action_of(self, data: str) -> str | None:
        with session_scope(self.core.engine, write=False) as session:
            return callbacks.action_of(session, data)

    async def _answers_at_once(self, event: CallbackPress) -> bool:
        """Whether a press may be answered as soon as it arrives, before its chat's turn
        (`answers`): its answer says nothing the work will say, as the plan answers such a
        press first too. A presser found in the directory a moment ago, on a button that
        carries its action (not a token), is decided without reading the database."""
        if self.first.knows(event.user_id) and not callbacks.is_token(event.data):
            return _answered_first(event, event.data)
        who, action = await asyncio.to_thread(self._presser_and_action, event)
        if who is not None:
            self.first.seen(event.user_id)
        return who is not None and action is not None and _answered_first(event, action)

    def _presser_and_action(self, event: CallbackPress) -> tuple[Who | None, str | None]:
        engine, language = self.core.engine, self.core.default_language
        return who_by_telegram(engine, event.user_id, language), self._action_of(event.data)


def _place_of(event: PrivateMessage | GroupMessage) -> str | None:
    """The place a line was typed in: a group (and its topic), or None in the private chat."""
    if isinstance(event, GroupMessage):
        return telegram_place(event.chat_id, event.thread_id)
    return None


def _answered_first(event: CallbackPress, action: str) -> bool:
    """Whether a press is answered before its work: unless it is a scan's button in a group,
    whose answer is the presser's own mark."""
    return event.in_private or not for_the_place(action=action)


def _thread(event: object) -> int | None:
    """The forum topic an event happened in (None: not in a topic)."""
    return event.thread_id if isinstance(event, GroupMessage | CallbackPress) else None
