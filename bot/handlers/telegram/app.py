"""The Telegram bot: python-telegram-bot's Application with one handler around the core.

Every update is translated (`inbound`), deduplicated by its update_id (a webhook delivers an
update again when it was not acknowledged in time; `common.dedupe`, namespace "telegram:"),
and routed:

- a line typed in the private chat (a command or a conversation's answer) → the core, and its
  replies to that chat; `/start` without an invite → a welcome and /help;
- `/start TOKEN` (an invite link) → the invite is redeemed (`bot.core.invites`);
- a command in a group → the core with the group as place, then the shared privacy rule
  (`common.privacy`): personal replies go to the person's private chat with a short note in
  the group, or, when the bot cannot write to them yet (403), a note asking them to start a
  private chat; a command that starts a conversation continues in the private chat;
- a button → the core's action, and the callback query always answered (with a short text
  when it failed); a Claim pressed on a card edits that card to show the case as it is now;
- the scan in a group (`common.places`): replies for everyone there are posted in the group,
  and one that updates a message (the count of votes) edits it (`sending.in_group`); a button
  of the scan pressed there is answered to the presser alone in the callback query's answer
  (their mark), never in the group;
- a CSV document in the private chat → `files`, then the core's import.

Anyone not in the directory gets the polite refusal and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import Update
from telegram.error import Forbidden
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from bot.config import Settings
from bot.core.app import Core
from bot.core.i18n import Translator, translator
from bot.core.replies import Reply
from bot.handlers.common import calls
from bot.handlers.common.conversation import continues_in_private, starts_conversation
from bot.handlers.common.dedupe import Dedupe, SeenEvents, SharedSeenEvents
from bot.handlers.common.places import for_the_place, place_of
from bot.handlers.common.privacy import place
from bot.handlers.common.who import Who, who_by_telegram
from bot.handlers.telegram import callbacks, inbound
from bot.handlers.telegram.files import receive_document
from bot.handlers.telegram.inbound import (
    CallbackPress,
    DocumentShared,
    GroupMessage,
    PrivateMessage,
    StartWithPayload,
    Unsupported,
)
from bot.handlers.telegram.sending import TelegramSender, telegram_place
from bot.logs import log_failure
from bot.store.db import session_scope

log = logging.getLogger(__name__)

TRANSPORT = "telegram"
DEDUPE_NAMESPACE = "telegram:"
RATE_LIMIT_RETRIES = 3  # RetryAfter waited out this often; after that the outbox retries later
MAX_ANSWER = 200  # characters of answerCallbackQuery's text
CLAIM = "claim"


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """PTB's Application for TELEGRAM_BOT_TOKEN at TELEGRAM_API_URL, rate limited."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    root = settings.telegram_api_url.rstrip("/")
    return (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
        .build()
    )


class TelegramBot:
    def __init__(self, core: Core, settings: Settings) -> None:
        self.core = core
        self.app = build_application(settings)
        self.sender = TelegramSender(self.app.bot, core.engine)
        self.dedupe = Dedupe(
            SeenEvents(), SharedSeenEvents(core.engine, namespace=DEDUPE_NAMESPACE)
        )
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
        return await asyncio.to_thread(
            who_by_telegram, self.core.engine, user_id, self.core.default_language
        )

    def _t(self, who: Who | None) -> Translator:
        return who.t if who else translator(self.core.default_language)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error or RuntimeError("unknown")
        log_failure(log, "telegram: failed while handling an update", exc=error)

    async def process(self, data: dict[str, object]) -> None:
        """One update as Telegram sends it (a webhook's body): into the Application."""
        await self.app.update_queue.put(Update.de_json(data, self.app.bot))

    # --- the handler --------------------------------------------------------------------

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not await self.dedupe.first_time(str(update.update_id)):
            log.info("telegram: update %s delivered again; not processed twice", update.update_id)
            return
        event = inbound.translate(update.to_dict(), bot_username=self.username)
        if isinstance(event, Unsupported):
            if event.callback_query_id is not None:
                await self.app.bot.answer_callback_query(event.callback_query_id)
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
            text = self._t(who)("Something went wrong. Please try again later.")
            await self.sender.post(chat_id, [Reply(text=text, error=True)])

    async def _route(
        self,
        event: PrivateMessage | GroupMessage | StartWithPayload | DocumentShared,
        who: Who | None,
    ) -> None:
        if isinstance(event, StartWithPayload):
            await self._invite(event, who)
            return
        if who is None:
            await self.sender.post(event.chat_id, [self.core.not_registered()])
            return
        if isinstance(event, DocumentShared):
            await receive_document(self, event, who)
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
            place=telegram_place(event.chat_id),
        )
        conversation = starts_conversation(event.command) and event.command in who.commands
        await self.answer_in_group(event.chat_id, event.user_id, who, replies, conversation)

    async def answer_in_group(
        self,
        chat_id: int,
        user_id: int,
        who: Who,
        replies: Sequence[Reply],
        all_private: bool = False,
    ) -> None:
        """Replies to something done in a group, by the privacy rule: what is personal (or,
        with `all_private`, everything: a conversation) goes to the person's private chat,
        with a note in the group; a note asking them to start one when the bot cannot."""
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
        await self.sender.in_group(chat_id, placed.here)

    async def _press(self, event: CallbackPress, who: Who | None) -> None:
        answer: str | None = None
        try:
            answer = await self._pressed(event, who)
        except Exception as exc:
            log_failure(log, "telegram: a button failed", exc=exc)
            answer = self._t(who)("Something went wrong. Please try again later.")
        finally:
            await self.app.bot.answer_callback_query(
                event.callback_query_id, text=answer[:MAX_ANSWER] if answer else None
            )

    async def _pressed(self, event: CallbackPress, who: Who | None) -> str | None:
        """Do what the button says; the callback query's answer text (None: nothing to say)."""
        if who is None:
            refusal = self.core.not_registered()
            await self.sender.post(event.chat_id, [refusal])
            return refusal.text
        action = await asyncio.to_thread(self._action_of, event.data)
        if action is None:
            return who.t("That button no longer works. Type /help.")
        place_name = None if event.in_private else telegram_place(event.chat_id)
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
            if failed is None and action.split(":", 1)[0] == CLAIM:
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
                event.chat_id, event.user_id, who, replies, continues_in_private(action)
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
            event.chat_id, event.user_id, who, [r for r in replies if r.to_place]
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
        """The card whose Claim was pressed, shown as the case is now (who has it, no Claim)."""
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


def _only_text(reply: Reply) -> bool:
    """Whether the reply is its text alone, so a callback query's answer can show it whole."""
    return not (
        reply.title or reply.fields or reply.lines or reply.buttons or reply.image_png or reply.file
    )
