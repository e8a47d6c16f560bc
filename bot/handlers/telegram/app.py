"""The Telegram bot: python-telegram-bot's Application with one handler around the core.

Every update is recorded before Telegram is told it arrived and taken once by its update_id
(`inbox`: a webhook delivers an update again when it was not acknowledged in time), handled
concurrently with other chats' and in order within its chat (`updates.InOrderPerChat`),
translated (`inbound`) and routed:

- a line typed in the private chat (a command or a conversation's answer) → the core, and its
  replies to that chat; `/start` without an invite → a welcome and /help;
- `/start TOKEN` (an invite link) → the invite is redeemed (`bot.core.invites`);
- a command in a group → the core with the group as place, then the shared privacy rule
  (`common.privacy`): personal replies go to the person's private chat with a short note in
  the group, or, when the bot cannot write to them yet (403), a note asking them to start a
  private chat; a command that starts a conversation continues in the private chat;
- a button → the core's action, and the callback query always answered (with a short text
  when it failed); when its answer says nothing the work will, as soon as it arrives, before
  it waits for its chat's turn (`answers`); a Claim pressed on a card edits that card to
  show the case as it is now;
- the scan in a group (`common.places`): replies for everyone there are posted in the group,
  and one that updates a message (the count of votes) edits it (`sending.in_group`); a button
  of the scan pressed there is answered to the presser alone in the callback query's answer
  (their mark), never in the group;
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
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.core.app import Core
from bot.core.commands import for_the_place, press_of
from bot.core.i18n import Translator, translator
from bot.core.replies import Reply
from bot.handlers.common import calls
from bot.handlers.common.conversation import continues_in_private, starts_conversation
from bot.handlers.common.failures import failure_text
from bot.handlers.common.places import place_of
from bot.handlers.common.privacy import place
from bot.handlers.common.who import Who, who_by_telegram
from bot.handlers.telegram import callbacks, inbound, inbox
from bot.handlers.telegram.answers import FirstAnswers
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
MAX_ANSWER = 200  # characters of answerCallbackQuery's text


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

    async def send(self, address: str, reply: Reply) -> str | None:
        return await self.sender.send(address, reply)

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
        who = await self.who(event.user_id)
        if isinstance(event, CallbackPress):
            await self._press(event, who)
            return
        chat_id = event.chat_id
        try:
            await self._route(event, who)
        except Exception as exc:
            log_failure(log, "telegram: %s failed", type(event).__name__, exc=exc)
            text = self._t(who)(failure_text(exc))
            await self.sender.post(chat_id, [Reply(text=text, error=True)], _thread(event))

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
        event: PrivateMessage | GroupMessage | StartWithPayload | DocumentShared | MediaShared,
        who: Who | None,
    ) -> None:
        if isinstance(event, StartWithPayload):
            await self._invite(event, who)
            return
        if who is None:
            await self.sender.post(event.chat_id, [self.core.not_registered()], _thread(event))
            return
        if isinstance(event, DocumentShared):
            await receive_document(self, event, who)
        elif isinstance(event, MediaShared):
            hint = who.t(
                "I read text, and files of leavers as CSV or Excel (.xlsx); a photo, sticker, "
                "voice message or video I cannot read. Type /help to see what I can do."
            )
            await self.sender.post(event.chat_id, [Reply(text=hint)])
        elif isinstance(event, GroupMessage):
            await self._group(event, who)
        elif event.command == "start":
            welcome = Reply(text=who.t("Welcome to Vangnet, {name}.", name=who.name))
            helping = await calls.typed(self.core, who, "/help", transport=TRANSPORT)
            await self.sender.post(event.chat_id, [welcome, *helping])
        else:
            await self.sender.post(
                event.chat_id, await calls.typed(self.core, who, event.text, transport=TRANSPORT)
            )

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

    async def _group(self, event: GroupMessage, who: Who) -> None:
        replies = await asyncio.to_thread(
            self.core.handle_text,
            person_id=who.id,
            text=event.text,
            transport=TRANSPORT,
            private=False,
            place=telegram_place(event.chat_id, event.thread_id),
        )
        conversation = starts_conversation(event.command) and event.command in who.commands
        await self.answer_in_group(
            event.chat_id, event.user_id, who, replies, conversation, event.thread_id
        )

    async def answer_in_group(
        self,
        chat_id: int,
        user_id: int,
        who: Who,
        replies: Sequence[Reply],
        all_private: bool = False,
        thread_id: int | None = None,
    ) -> None:
        """Replies to something done in a group (in its topic `thread_id`), by the privacy
        rule: what is personal (or, with `all_private`, everything: a conversation) goes to
        the person's private chat, with a note in the group; a note asking them to start one
        when the bot cannot."""
        t = who.t
        if all_private and not any(r.error for r in replies):
            replies = [r.model_copy(update={"personal": True}) for r in replies]
        placed = place(replies, private_here=False, t=t)
        if placed.private:
            try:
                await self.sender.post(user_id, placed.private)
            except Forbidden:  # they never started a chat with the bot, or blocked it
                log.info("telegram: cannot write privately to a person; asked to start a chat")
                placed = place(replies, private_here=False, t=t, can_write_privately=False)
        await self.sender.in_group(chat_id, placed.here, thread_id)

    async def _press(self, event: CallbackPress, who: Who | None) -> None:
        """A button pressed. Its callback query is answered first, before the work, whenever
        the answer needs nothing the work says: the presser's button stops spinning at once,
        and what the work says is posted (a failure too). Only a button of the place (a mark
        in a scan) is answered after, as its answer is the presser's own mark."""
        waiting = [True]  # the callback query still waits for its answer
        answer: str | None = None
        try:
            answer = await self._pressed(event, who, waiting)
        except Exception as exc:
            log_failure(log, "telegram: a button failed", exc=exc)
            answer = self._t(who)(failure_text(exc))
            if not waiting[0] and event.in_private:
                await self.sender.post(event.chat_id, [Reply(text=answer, error=True)])
        finally:
            if waiting[0] and not await self.first.answered(event.callback_query_id):
                await self.app.bot.answer_callback_query(
                    event.callback_query_id, text=answer[:MAX_ANSWER] if answer else None
                )

    async def _answer_first(self, event: CallbackPress, waiting: list[bool]) -> None:
        """The press answered before its work (unless it was as soon as it arrived)."""
        waiting[0] = False
        if await self.first.answered(event.callback_query_id):
            return
        try:
            await self.app.bot.answer_callback_query(event.callback_query_id)
        except BadRequest as exc:  # answered before a restart, or too old: the work goes on
            log.info("telegram: a button's answer was refused (%s)", type(exc).__name__)

    async def _answers_at_once(self, event: CallbackPress) -> bool:
        """Whether a press may be answered as soon as it arrives, before its chat's turn
        (`answers`): its answer says nothing the work will say, as `_pressed` answers first.
        A presser found in the directory a moment ago, on a button that carries its action
        (not a token), is decided without reading the database."""
        if self.first.knows(event.user_id) and not callbacks.is_token(event.data):
            return _answered_first(event, event.data)
        who, action = await asyncio.to_thread(self._presser_and_action, event)
        if who is not None:
            self.first.seen(event.user_id)
        return who is not None and action is not None and _answered_first(event, action)

    def _presser_and_action(self, event: CallbackPress) -> tuple[Who | None, str | None]:
        engine, language = self.core.engine, self.core.default_language
        return who_by_telegram(engine, event.user_id, language), self._action_of(event.data)

    async def _pressed(
        self, event: CallbackPress, who: Who | None, waiting: list[bool]
    ) -> str | None:
        """Do what the button says; the callback query's answer text (None: nothing to say),
        unless it was answered first (`waiting` says)."""
        if who is None:
            refusal = self.core.not_registered()
            await self.sender.post(event.chat_id, [refusal], event.thread_id)
            return refusal.text
        action = await asyncio.to_thread(self._action_of, event.data)
        if action is None:
            return who.t("That button no longer works. Type /help.")
        if _answered_first(event, action):
            await self._answer_first(event, waiting)
        place_name = None if event.in_private else telegram_place(event.chat_id, event.thread_id)
        replies = await asyncio.to_thread(
            self.core.handle_action,
            person_id=who.id,
            action=action,
            transport=TRANSPORT,
            private=event.in_private,
            place=place_name,
        )
        failed = next((r for r in replies if r.error), None)
        if event.in_private:
            press = press_of(action)
            if failed is None and press is not None and press.refreshes_card:
                await self._refresh_card(event, who, action.split(":", 1)[1])
            groups = await asyncio.to_thread(self._groups_showing, replies)
            for reply, group in zip(replies, groups, strict=True):
                if group is not None:  # it changes a message of a group: there
                    await self.sender.in_group(group, [reply])
            here = [r for r, group in zip(replies, groups, strict=True) if group is None]
            await self.sender.post(event.chat_id, here)
        elif for_the_place(action=action):
            return await self._pressed_for_the_place(event, who, replies)
        else:
            await self.answer_in_group(
                event.chat_id,
                event.user_id,
                who,
                replies,
                continues_in_private(action),
                event.thread_id,
            )
        return failed.text if failed is not None else None

    async def _pressed_for_the_place(
        self, event: CallbackPress, who: Who, replies: Sequence[Reply]
    ) -> str | None:
        """A scan's button pressed in a group: what is for everyone there is shown in it; the
        presser's own answer (their mark) is the callback query's answer, seen by them alone,
        or, when it does not fit one, goes to their private chat."""
        own = [r for r in replies if not r.to_place]
        await self.answer_in_group(
            event.chat_id,
            event.user_id,
            who,
            [r for r in replies if r.to_place],
            thread_id=event.thread_id,
        )
        if not own:
            return None
        short = [r for r in own if _only_text(r)]  # their mark: the callback's answer
        answer = "\n".join(r.text for r in short)
        rest = [r for r in own if not _only_text(r)]  # a question with buttons: privately
        if len(answer) > MAX_ANSWER:
            answer, rest = "", own
        if rest:
            try:
                await self.sender.post(event.user_id, rest)
            except Forbidden:  # no private chat with the bot yet: not asked (no note in
                # the group for a question that holds nothing personal)
                log.info("telegram: cannot write privately to a voter; question left out")
        return answer or None

    async def _refresh_card(self, event: CallbackPress, who: Who, ref: str) -> None:
        """The card whose button was pressed (Claim: the row's `refreshes_card`), shown as the
        case is now (who has it, no Claim)."""
        card = await calls.pressed(self.core, who, f"case:{ref}", transport=TRANSPORT)
        if card and not card[0].error:
            await self.sender.edit_message(event.chat_id, event.message_id, card[0])

    def _groups_showing(self, replies: Sequence[Reply]) -> list[int | None]:
        """Per reply, the group whose message it changes (a reply for the place that updates
        a message posted in a Telegram group), else None."""
        found: list[int | None] = []
        for reply in replies:
            shown = reply.updates if reply.to_place else None
            place = place_of(self.core.engine, shown) if shown else None
            prefix = telegram_place(0).removesuffix("0")
            group = place.removeprefix(prefix) if place and place.startswith(prefix) else None
            found.append(int(group) if group and group.lstrip("-").isdigit() else None)
        return found

    def _action_of(self, data: str) -> str | None:
        with session_scope(self.core.engine, write=False) as session:
            return callbacks.action_of(session, data)


def _answered_first(event: CallbackPress, action: str) -> bool:
    """Whether a press is answered before its work: unless it is a scan's button in a group,
    whose answer is the presser's own mark."""
    return event.in_private or not for_the_place(action=action)


def _thread(event: object) -> int | None:
    """The forum topic an event happened in (None: not in a topic)."""
    return event.thread_id if isinstance(event, GroupMessage | CallbackPress) else None


def _only_text(reply: Reply) -> bool:
    """Whether the reply is its text alone, so a callback query's answer can show it whole."""
    return not (
        reply.title or reply.fields or reply.lines or reply.buttons or reply.image_png or reply.file
    )
