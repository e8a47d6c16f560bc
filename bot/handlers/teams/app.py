"""The Teams bot: the Agents SDK's CloudAdapter with one agent around the core.

Activities reach `on_turn` only after the server checked their token (`trust`) and took them
once by their id (`server`). There they are translated and routed:

- the app installed for a person, or in a team or group chat (conversationUpdate with the bot
  among the members added, installationUpdate "add"): the conversation's reference is stored
  (`references`); in a personal chat the person known to the directory is welcomed with /help;
  the app removed: the reference is forgotten;
- a line typed in the personal chat (a command or a conversation's answer) → the core, and its
  replies to that chat (cards with buttons: `render`);
- a card's button pressed (a message whose `value` holds the action) → the core's action;
  Claim refreshes the card it was pressed on (the row's `refreshes_card`);
- a command in a channel or group chat where the bot is mentioned (the mention stripped) →
  the core with the conversation as place, then the shared privacy rule (`common.privacy`):
  personal replies go to the person's personal chat with a short note in the channel, or,
  when the bot has no personal chat with them yet, a note asking them to start one; a
  command that starts a conversation continues in the personal chat.

Anyone not in the directory gets the polite refusal and nothing else. A failure is told in
the product's own words (`common.failures`): the SDK's default error handler, which posts the
exception and the connector's URL into the chat, is replaced.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from aiohttp import ClientResponseError
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentAuthConfiguration, TurnContext
from microsoft_agents.hosting.core.authorization import AuthTypes

from bot.config import Settings
from bot.core.app import Core
from bot.core.commands import for_the_place, press_of
from bot.core.i18n import Translator, translator
from bot.core.replies import Reply
from bot.handlers.common import calls, places
from bot.handlers.common.conversation import starts_conversation
from bot.handlers.common.edits import LatestEdits
from bot.handlers.common.failures import failure_text
from bot.handlers.common.pacing import Pacer
from bot.handlers.common.privacy import place
from bot.handlers.common.who import Who, who_by_teams
from bot.handlers.teams import references, render
from bot.handlers.teams.failures import NoConversation
from bot.handlers.teams.sending import TeamsPace, resource_id
from bot.logs import log_failure

log = logging.getLogger(__name__)

TRANSPORT = "teams"
PERSONAL = "personal"
BOT_CONNECTOR = "https://api.botframework.com"  # the audience of the outgoing token
EDIT_SECONDS = 1.0  # a message shown in a channel (a scan's votes) is updated at most this often


def connection_manager(settings: Settings) -> MsalConnectionManager:
    """MSAL with the bot's client secret in its tenant: the outgoing calls' tokens come from
    Entra ID (login.microsoftonline.com/TENANT)."""
    if not settings.teams_enabled:
        raise ValueError("TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID are not all set")
    assert settings.teams_app_password is not None
    config = AgentAuthConfiguration(
        auth_type=AuthTypes.client_secret,
        client_id=settings.teams_app_id,
        tenant_id=settings.teams_tenant_id,
        client_secret=settings.teams_app_password.get_secret_value(),
        connection_name="SERVICE_CONNECTION",
    )
    return MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": config})


def place_name(conversation_id: str) -> str:
    """A channel's or group chat's place name for the core (`common.places`)."""
    return "teams:" + conversation_id.split(";", 1)[0]


def reference_json(activity: Activity) -> str:
    """The activity's conversation reference as stored: without the user's display name."""
    reference = activity.get_conversation_reference()
    data = reference.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(data.get("user"), dict):
        data["user"].pop("name", None)
    return json.dumps(data, sort_keys=True)


def is_personal(activity: Activity) -> bool:
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    return kind in (None, PERSONAL)


class TeamsBot:
    """The agent: `on_turn` for the adapter; `send` and `edit` for the outbox."""

    def __init__(self, core: Core, settings: Settings, adapter: CloudAdapter | None = None) -> None:
        assert settings.teams_app_id is not None
        self.core = core
        self.app_id = settings.teams_app_id
        self.tenant_id = settings.teams_tenant_id or ""
        self.adapter = adapter or CloudAdapter(connection_manager=connection_manager(settings))
        self.adapter.on_turn_error = self.on_turn_error
        self.pace = TeamsPace()
        self._edits = LatestEdits(Pacer(EDIT_SECONDS))

    # --- the way out ------------------------------------------------------------------------

    async def _reference(self, key: str) -> ConversationReference | None:
        raw = await asyncio.to_thread(references.stored, self.core.engine, key)
        return None if raw is None else ConversationReference.model_validate_json(raw)

    async def _in(self, reference: ConversationReference, work: Any) -> Any:
        """Run `work(context)` in the conversation `reference` names (a proactive turn: a
        connector client with a token from Entra ID)."""
        done: list[Any] = []
        failed: list[BaseException] = []

        async def callback(context: TurnContext) -> None:
            try:
                done.append(await work(context))
            except Exception as exc:  # the caller judges it (the SDK's pipeline would not)
                failed.append(exc)

        await self.adapter.continue_conversation(
            self.app_id, reference.get_continuation_activity(), callback
        )
        if failed:
            raise failed[0]
        return done[0] if done else None

    async def post(
        self, replies: Sequence[Reply], *, context: TurnContext | None = None, key: str = ""
    ) -> list[str | None]:
        """Send `replies` in order: in the turn's conversation (`context`), else in the
        stored conversation `key`. The ids of the activities created."""
        if not replies:
            return []
        if context is not None:
            return await self._post_in(context, replies)
        reference = await self._reference(key)
        if reference is None and key.startswith(references.USER):
            return await self._open_personal(key.removeprefix(references.USER), replies)
        if reference is None:
            raise NoConversation()
        ids: list[str | None] = await self._in(reference, lambda ctx: self._post_in(ctx, replies))
        return ids

    async def _open_personal(self, object_id: str, replies: Sequence[Reply]) -> list[str | None]:
        """A personal chat opened with someone known by their Entra object id who never wrote
        to the bot (the app installed for them by their admin), its reference stored, and
        `replies` sent there. NoConversation when no service URL is known yet (nobody in
        the tenant has written to the bot); a 403/404 when the app is not installed for them
        (`failures.judge`)."""
        service_url = await asyncio.to_thread(references.any_service_url, self.core.engine)
        if service_url is None:
            raise NoConversation()
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id="28:" + self.app_id),
            members=[ChannelAccount(id=object_id, aad_object_id=object_id)],
            tenant_id=self.tenant_id,
            channel_data={"tenant": {"id": self.tenant_id}},
        )
        done: list[list[str | None]] = []
        failed: list[BaseException] = []

        async def callback(context: TurnContext) -> None:
            try:
                context.activity.from_property = ChannelAccount(
                    id=object_id, aad_object_id=object_id
                )
                await self._remember(context.activity, personal=True)
                done.append(await self._post_in(context, replies))
            except Exception as exc:  # the caller judges it (the SDK's pipeline would not)
                failed.append(exc)

        await self.adapter.create_conversation(
            self.app_id, "msteams", service_url, BOT_CONNECTOR, parameters, callback
        )
        if failed:
            raise failed[0]
        return done[0] if done else []

    async def _post_in(self, context: TurnContext, replies: Sequence[Reply]) -> list[str | None]:
        conversation = context.activity.conversation.id if context.activity.conversation else ""
        ids: list[str | None] = []
        for reply in replies:
            body = Activity.model_validate(render.activity_body(reply))

            async def once(body: Activity = body) -> Any:
                return await context.send_activity(body)

            ids.append(resource_id(await self.pace.call(conversation, once)))
        return ids

    async def update(self, context: TurnContext, activity_id: str, reply: Reply) -> None:
        """Show the message `activity_id` in the turn's conversation as `reply` now."""
        conversation = context.activity.conversation.id if context.activity.conversation else ""
        body = Activity.model_validate(render.activity_body(reply))
        body.id = activity_id

        async def once() -> Any:
            return await context.update_activity(body)

        await self.pace.call(conversation, once)

    async def send(self, address: str, reply: Reply) -> str | None:
        """The outbox's send: to the personal chat of the person with Entra object id
        `address`; the id of the message (for later edits)."""
        ids = await self.post([reply], key=references.user_key(address))
        return ids[0] if ids else None

    async def edit(self, address: str, ref: str, reply: Reply) -> None:
        """The outbox's edit: the message `ref` in `address`'s personal chat, as `reply`."""
        reference = await self._reference(references.user_key(address))
        if reference is None:
            raise NoConversation()
        await self._in(reference, lambda ctx: self.update(ctx, ref, reply))

    # --- messages for everyone in a channel ------------------------------------------------

    async def in_place(
        self, replies: Sequence[Reply], *, context: TurnContext | None, key: str, place: str
    ) -> None:
        """Replies shown in a channel or group chat (the privacy rule already applied), in
        order: each is posted, except one for the place with `updates` (a scan's voting
        card), which updates the card showing its key once that was posted (`places`,
        coalesced: at most one update a second, the last state wins)."""
        for reply in replies:
            if reply.to_place and reply.updates is not None:
                await self._show_updated(
                    reply, reply.updates, context=context, key=key, place=place
                )
            else:
                await self.post([reply], context=context, key=key)

    async def _show_updated(
        self, reply: Reply, shown: str, *, context: TurnContext | None, key: str, place: str
    ) -> None:
        ref = await asyncio.to_thread(places.shown_at, self.core.engine, shown, place)
        if ref is not None and "|" in ref:
            self._update_later(shown, ref, reply)
            return
        ids = await self.post([reply], context=context, key=key)
        if ids and ids[0]:
            await asyncio.to_thread(
                places.remember, self.core.engine, shown, place, f"{key}|{ids[0]}"
            )

    def _update_later(self, shown: str, ref: str, reply: Reply) -> None:
        """The card `ref` ("conversation key|activity id") shows `reply` from now on."""
        key, activity_id = ref.rsplit("|", 1)

        async def update() -> None:
            reference = await self._reference(key)
            if reference is not None:
                await self._in(reference, lambda ctx: self.update(ctx, activity_id, reply))

        self._edits.show(shown, key, update)

    async def _show_elsewhere(self, replies: Sequence[Reply]) -> list[Reply]:
        """Of replies to something done in a personal chat, those that change a card shown
        in a channel (who is at the scan's table) update it there; the rest are returned."""
        rest: list[Reply] = []
        for reply in replies:
            shown = reply.updates if reply.to_place else None
            where = (
                await asyncio.to_thread(places.place_of, self.core.engine, shown) if shown else None
            )
            ref = (
                await asyncio.to_thread(places.shown_at, self.core.engine, shown, where)
                if shown and where and where.startswith(place_name(""))
                else None
            )
            if shown and ref and "|" in ref:
                self._update_later(shown, ref, reply)
            else:
                rest.append(reply)
        return rest

    async def flush(self) -> None:
        """Wait until every card update waiting for its turn is shown (before stopping)."""
        await self._edits.flush()

    # --- failures ---------------------------------------------------------------------------

    async def on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """Instead of the SDK's handler (which posts the exception and the connector's URL
        into the chat): logged without content, and the person told in the product's words."""
        log_failure(log, "teams: failed while handling an activity", exc=error)
        if is_personal(context.activity):
            t = translator(self.core.default_language)
            try:
                await context.send_activity(
                    Activity(type="message", text=t(failure_text(error)), text_format="plain")
                )
            except Exception as again:
                log.error("teams: could not tell about a failure: %s", type(again).__name__)

    # --- the agent --------------------------------------------------------------------------

    async def who(self, activity: Activity) -> Who | None:
        sender = activity.from_property
        object_id = getattr(sender, "aad_object_id", None) if sender else None
        if not object_id:
            return None
        return await asyncio.to_thread(
            who_by_teams, self.core.engine, object_id, self.core.default_language
        )

    def _t(self, who: Who | None) -> Translator:
        return who.t if who else translator(self.core.default_language)

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        if activity.type == ActivityTypes.conversation_update:
            await self._conversation_update(context)
        elif activity.type == ActivityTypes.installation_update:
            await self._installation_update(context)
        elif activity.type == ActivityTypes.message:
            who = await self.who(activity)
            try:
                await self._message(context, who)
            except Exception as exc:
                log_failure(log, "teams: a message failed", exc=exc)
                text = self._t(who)(failure_text(exc))
                await self.post([Reply(text=text, error=True)], context=context)

    async def _remember(self, activity: Activity, *, personal: bool | None = None) -> None:
        """Store where the bot can write: the person's personal chat, or the channel."""
        if is_personal(activity) if personal is None else personal:
            sender = activity.from_property
            object_id = getattr(sender, "aad_object_id", None) if sender else None
            if not object_id:
                return
            key = references.user_key(object_id)
        else:
            assert activity.conversation is not None
            key = references.conversation_key(activity.conversation.id)
        await asyncio.to_thread(references.store, self.core.engine, key, reference_json(activity))

    async def _forget(self, activity: Activity) -> None:
        if is_personal(activity):
            sender = activity.from_property
            object_id = getattr(sender, "aad_object_id", None) if sender else None
            if object_id:
                await asyncio.to_thread(
                    references.forget, self.core.engine, references.user_key(object_id)
                )
        elif activity.conversation is not None:
            await asyncio.to_thread(
                references.forget,
                self.core.engine,
                references.conversation_key(activity.conversation.id),
            )

    async def _conversation_update(self, context: TurnContext) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = [m for m in activity.members_added or [] if m.id == bot_id]
        removed = [m for m in activity.members_removed or [] if m.id == bot_id]
        if removed:
            await self._forget(activity)
        elif added:
            await self._installed(context)

    async def _installation_update(self, context: TurnContext) -> None:
        action = (context.activity.action or "").casefold()
        if action.startswith("remove"):
            await self._forget(context.activity)
        elif action.startswith("add"):
            await self._installed(context)

    async def _installed(self, context: TurnContext) -> None:
        activity = context.activity
        await self._remember(activity)
        if not is_personal(activity):
            return
        who = await self.who(activity)
        if who is None:
            await self.post([self.core.not_registered()], context=context)
            return
        welcome = Reply(text=who.t("Welcome to Vangnet, {name}.", name=who.name))
        helping = await calls.typed(self.core, who, "/help", transport=TRANSPORT)
        await self.post([welcome, *helping], context=context)

    async def _message(self, context: TurnContext, who: Who | None) -> None:
        activity = context.activity
        personal = is_personal(activity)
        await self._remember(activity)
        action = render.action_of(activity.value)
        if who is None:
            await self.post([self.core.not_registered()], context=context)
            return
        if action is not None:
            await self._press(context, who, action, personal)
            return
        text = _text_of(activity, personal)
        if not text:
            return
        if personal:
            await self.post(
                await calls.typed(self.core, who, text, transport=TRANSPORT), context=context
            )
            return
        assert activity.conversation is not None
        replies = await calls.typed(
            self.core,
            who,
            text,
            transport=TRANSPORT,
            private=False,
            place=place_name(activity.conversation.id),
        )
        command = text.lstrip("/").split(maxsplit=1)[0].casefold() if text else ""
        conversation = starts_conversation(command) and command in who.commands
        await self.answer_in_channel(context, who, replies, conversation)

    async def answer_in_channel(
        self, context: TurnContext, who: Who, replies: Sequence[Reply], all_private: bool = False
    ) -> None:
        """Replies to something done in a channel or group chat, by the privacy rule: what is
        personal (or, with `all_private`, everything: a conversation) goes to the person's
        personal chat, with a note here; a note asking them to start one when the bot has
        no personal chat with them yet."""
        t = who.t
        if all_private and not any(r.error for r in replies):
            replies = [r.model_copy(update={"personal": True}) for r in replies]
        placed = place(replies, private_here=False, t=t)
        if placed.private:
            try:
                await self.post(placed.private, key=_personal_key(context))
            except (NoConversation, ClientResponseError):
                log.info("teams: no personal chat with a person yet; asked to start one")
                placed = place(replies, private_here=False, t=t, can_write_privately=False)
        conversation = context.activity.conversation
        assert conversation is not None
        await self.in_place(
            placed.here,
            context=context,
            key=references.conversation_key(conversation.id),
            place=place_name(conversation.id),
        )

    async def _press(self, context: TurnContext, who: Who, action: str, personal: bool) -> None:
        activity = context.activity
        place_here = None
        if not personal and activity.conversation is not None:
            place_here = place_name(activity.conversation.id)
        replies = await calls.pressed(
            self.core, who, action, transport=TRANSPORT, private=personal, place=place_here
        )
        failed = next((r for r in replies if r.error), None)
        press = press_of(action)
        card_id = activity.reply_to_id
        if (
            failed is None
            and press is not None
            and press.refreshes_card
            and card_id
            and ":" in action
        ):
            card = await calls.pressed(
                self.core,
                who,
                f"case:{action.split(':', 1)[1]}",
                transport=TRANSPORT,
                private=personal,
                place=place_here,
            )
            if card and not card[0].error and not (card[0].personal and not personal):
                await self.update(context, card_id, card[0])
        if personal:
            await self.post(await self._show_elsewhere(replies), context=context)
        elif for_the_place(action=action):
            await self._pressed_for_the_place(context, who, replies)
        else:
            await self.answer_in_channel(context, who, replies)

    async def _pressed_for_the_place(
        self, context: TurnContext, who: Who, replies: Sequence[Reply]
    ) -> None:
        """A scan's button pressed in a channel: what is for everyone there is shown in it
        (the voting card updated); the presser's own answer (their mark) goes to their
        personal chat, never into the channel."""
        await self.answer_in_channel(context, who, [r for r in replies if r.to_place])
        own = [r for r in replies if not r.to_place]
        if not own:
            return
        try:
            await self.post(own, key=_personal_key(context))
        except (NoConversation, ClientResponseError):  # no personal chat: their mark stands
            log.info("teams: cannot write privately to a voter; their answer left out")


def _personal_key(context: TurnContext) -> str:
    """The stored personal chat of whoever did this."""
    object_id = getattr(context.activity.from_property, "aad_object_id", None) or ""
    return references.user_key(object_id)


def _text_of(activity: Activity, personal: bool) -> str:
    """What the person typed: the bot's mention taken out (in a channel it is there), the
    HTML Teams may wrap text in read as text."""
    text = activity.text or ""
    if not personal or "<at>" in text:
        try:
            text = activity.remove_recipient_mention() or ""
        except Exception:  # an entity the SDK cannot read: the text as it is
            text = activity.text or ""
    text = html.unescape(_strip_tags(text)).strip()
    return text


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)
