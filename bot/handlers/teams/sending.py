"""Sending to Teams: every message through the Bot Connector at Teams' pace.

`TeamsSender` is the way out: replies rendered (`render`) and posted in the turn's
conversation, or proactively in a stored one (`references`: a person's personal chat, a
channel), a personal chat opened for a person known by their Entra object id who never wrote,
messages updated, and in a channel a reply for everyone there with `updates` (a scan's voting
card) posted once and then updated in place under its key, remembered in the database
(`common.places`, as "conversation key|activity id"), the updates coalesced (`common.edits`:
at most one a second, the last state wins). Every failure of a send is raised to the caller
(the outbox judges it: `failures`), never left to the SDK's turn error handler.

Teams limits a bot per conversation to 7 messages a second, 8 in 2 seconds, 60 in 30 seconds
and 1,800 an hour. Each conversation keeps those as sliding windows (`common.pacing.Window`),
its messages sent in order, one at a time: a Claim's card update and its reply go out one
after the other, as Teams allows, and only a longer burst waits for its window. A 429
is waited out for as long as its Retry-After says (at most `MAX_RETRY_WAIT` seconds, and
`RETRIES` times): the SDK itself neither retries nor reads Retry-After. What still fails is
raised to the caller (the outbox retries later; `failures.judge` sorts it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import ClientResponseError
from aiolimiter import AsyncLimiter
from cachetools import LRUCache
from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import TurnContext
from sqlalchemy import Engine

from bot.core.i18n import Translator, translator
from bot.core.replies import Reply
from bot.handlers.common import places
from bot.handlers.common.edits import LatestEdits
from bot.handlers.common.pacing import Pacer, Window
from bot.handlers.common.who import who_by_teams
from bot.handlers.teams import offers, references, render
from bot.handlers.teams.failures import NoConversation

log = logging.getLogger(__name__)

T = TypeVar("T")

# Teams' limits per bot and conversation: (messages, in seconds), sliding; and per hour
WINDOWS = ((7, 1.0), (8, 2.0), (60, 30.0))
PER_HOUR = 1800
RETRIES = 3  # 429s waited out for one message before it is given up here
MAX_RETRY_WAIT = 60.0  # seconds: a longer Retry-After is left to the outbox's back-off
DEFAULT_RETRY_WAIT = 1.0  # a 429 without Retry-After
EDIT_SECONDS = 1.0  # a card shown in a channel (a scan's votes) is updated at most this often
BOT_CONNECTOR = "https://api.botframework.com"  # the audience of the outgoing token


def retry_after(exc: ClientResponseError) -> float:
    """Seconds a 429 asks to wait (Retry-After in seconds; without it, a second)."""
    headers: Any = exc.headers or {}
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_RETRY_WAIT
    except ValueError:
        return DEFAULT_RETRY_WAIT


@dataclass
class _Conversation:
    windows: tuple[Window, ...]
    hourly: AsyncLimiter
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # its messages one at a time


class TeamsPace:
    """Teams' limits per conversation (one per event loop). `clock` and `sleep` are the
    event loop's unless a test gives its own."""

    def __init__(
        self,
        size: int = 10_000,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self._conversations: LRUCache[Hashable, _Conversation] = LRUCache(maxsize=size)

    async def call(self, conversation: str, send: Callable[[], Awaitable[T]]) -> T:
        """`send` in the conversation's turn, a 429 waited out as Teams asks."""
        state = self._conversations.get(conversation)
        if state is None:
            state = self._conversations[conversation] = _Conversation(
                windows=tuple(Window(rate, period) for rate, period in WINDOWS),
                hourly=AsyncLimiter(PER_HOUR, 3600),
            )
        async with state.lock:
            for attempt in range(RETRIES + 1):
                await state.hourly.acquire()
                await self._window(state)
                try:
                    return await send()
                except ClientResponseError as exc:
                    wait = retry_after(exc)
                    if exc.status != 429 or attempt == RETRIES or wait > MAX_RETRY_WAIT:
                        raise
                    log.info("teams: 429 from the Bot Connector; waiting %.1f s", wait)
                    await self.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _window(self, state: _Conversation) -> None:
        """Wait until every window has room, then take a place in each."""
        while (wait := max(w.wait(self.clock()) for w in state.windows)) > 0:
            await self.sleep(wait)
        now = self.clock()
        for window in state.windows:
            window.take(now)


def resource_id(response: Any) -> str | None:
    """The id of the activity the Bot Connector created (a ResourceResponse's id)."""
    found = getattr(response, "id", None)
    return found if isinstance(found, str) and found else None


class TeamsSender:
    """The way out for one bot (`app_id` in `tenant_id`), through the SDK's adapter."""

    def __init__(
        self,
        adapter: CloudAdapter,
        app_id: str,
        tenant_id: str,
        engine: Engine,
        default_language: str = "nl",
    ) -> None:
        self.adapter = adapter
        self.default_language = default_language
        self.app_id = app_id
        self.tenant_id = tenant_id
        self.engine = engine
        self.pace = TeamsPace()
        self._edits = LatestEdits(Pacer(EDIT_SECONDS))

    async def _reference(self, key: str) -> ConversationReference | None:
        raw = await asyncio.to_thread(references.stored, self.engine, key)
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
        service_url = await asyncio.to_thread(references.any_service_url, self.engine)
        if service_url is None:
            raise NoConversation()
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id="28:" + self.app_id),
            members=[ChannelAccount(id=object_id, aad_object_id=object_id)],
            tenant_id=self.tenant_id,
            channel_data={"tenant": {"id": self.tenant_id}},
        )
        # the SDK's create_conversation leaves its connector client open when the Bot
        # Connector refuses (the app not installed for them): the call is made here, with a
        # client from the adapter's factory that is closed whatever happens
        claims = self.adapter.create_claims_identity(self.app_id)
        claims.claims["serviceurl"] = service_url
        factory = self.adapter._channel_service_client_factory
        client = await factory.create_connector_client(None, claims, service_url, BOT_CONNECTOR)
        try:
            created = await client.conversations.create_conversation(parameters)
        finally:
            await client.close()
        reference = ConversationReference(
            channel_id="msteams",
            service_url=service_url,
            conversation=ConversationAccount(
                id=created.id, conversation_type="personal", tenant_id=self.tenant_id
            ),
            agent=ChannelAccount(id="28:" + self.app_id),
            user=ChannelAccount(id=object_id, aad_object_id=object_id),
        )
        raw = json.dumps(
            reference.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=True
        )
        await asyncio.to_thread(references.store, self.engine, references.user_key(object_id), raw)
        ids: list[str | None] = await self._in(reference, lambda ctx: self._post_in(ctx, replies))
        return ids

    async def _post_in(self, context: TurnContext, replies: Sequence[Reply]) -> list[str | None]:
        """Each reply as its message; its chart after it, in a message of its own (or a
        note that it is too large to show here); its file offered with a consent card in a
        personal chat (`offer_file`), and in a channel or group chat a note that files are
        given in the personal chat only. The id of each reply's first message."""
        ids: list[str | None] = []
        for reply in replies:
            first: str | None = None
            if not (render.is_plain(reply) and not reply.text and (reply.image_png or reply.file)):
                first = await self._send_body(context, render.activity_body(reply))
            if reply.image_png:
                shown = render.chart(reply)
                if shown is None:
                    t = await self.translator(context)
                    note = t("The chart is too large to show here; the numbers above say the same.")
                    shown = render.activity_body(Reply(text=note))
                image_id = await self._send_body(context, shown)
                first = first or image_id
            if reply.file is not None:
                if references.is_personal(context.activity):
                    offered = await self.offer_file(context, reply)
                else:
                    t = await self.translator(context)
                    note = t("Files I can only give in a personal chat: ask me for it there.")
                    offered = await self._send_body(context, render.activity_body(Reply(text=note)))
                first = first or offered
            ids.append(first)
        return ids

    async def _send_body(self, context: TurnContext, body: dict[str, Any]) -> str | None:
        conversation = context.activity.conversation.id if context.activity.conversation else ""
        activity = Activity.model_validate(body)

        async def once() -> Any:
            return await context.send_activity(activity)

        return resource_id(await self.pace.call(conversation, once))

    async def translator(self, context: TurnContext) -> Translator:
        """The language of the person the conversation is with (their personal chat), else
        the region's."""
        sender = context.activity.from_property
        object_id = getattr(sender, "aad_object_id", None) if sender else None
        if object_id and references.is_personal(context.activity):
            who = await asyncio.to_thread(
                who_by_teams, self.engine, object_id, self.default_language
            )
            if who is not None:
                return who.t
        return translator(self.default_language)

    async def offer_file(self, context: TurnContext, reply: Reply) -> str | None:
        """Offer the file of `reply` in the personal chat of `context` with a consent card;
        the bytes wait in the outbox until the person answers (`offers`, `files`)."""
        assert reply.file is not None
        sender = context.activity.from_property
        object_id = getattr(sender, "aad_object_id", None) if sender else None
        offer_id = await asyncio.to_thread(offers.offer, self.engine, object_id or "", reply)
        if offer_id is None:
            log.warning("teams: a file for someone the directory does not know; not offered")
            return None
        t = await self.translator(context)
        name = reply.file_name or "vangnet"
        card = render.consent_card(
            name, len(reply.file), t("{name}, from Vangnet", name=name), offer_id
        )
        return await self.post_attachments(context, [card])

    async def post_attachments(
        self, context: TurnContext, attachments: list[dict[str, Any]], *, text: str = ""
    ) -> str | None:
        """A message of attachments (a consent card, a file card) in the turn's conversation."""
        body: dict[str, Any] = {"type": "message", "attachments": attachments}
        if text:
            body |= {"text": text, "textFormat": "plain"}
        return await self._send_body(context, body)

    async def post_card(self, context: TurnContext, card: dict[str, Any]) -> str | None:
        """A card that is no core reply (a form with inputs) in the turn's conversation."""
        conversation = context.activity.conversation.id if context.activity.conversation else ""
        body = Activity.model_validate(
            {
                "type": "message",
                "attachments": [{"contentType": render.CARD_CONTENT_TYPE, "content": card}],
            }
        )

        async def once() -> Any:
            return await context.send_activity(body)

        return resource_id(await self.pace.call(conversation, once))

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
        ref = await asyncio.to_thread(places.shown_at, self.engine, shown, place)
        if ref is not None and "|" in ref:
            self._update_later(shown, ref, reply)
            return
        ids = await self.post([reply], context=context, key=key)
        if ids and ids[0]:
            await asyncio.to_thread(places.remember, self.engine, shown, place, f"{key}|{ids[0]}")

    def _update_later(self, shown: str, ref: str, reply: Reply) -> None:
        """The card `ref` ("conversation key|activity id") shows `reply` from now on."""
        key, activity_id = ref.rsplit("|", 1)

        async def update() -> None:
            reference = await self._reference(key)
            if reference is not None:
                await self._in(reference, lambda ctx: self.update(ctx, activity_id, reply))

        self._edits.show(shown, key, update)

    async def flush(self) -> None:
        """Wait until every card update waiting for its turn is shown (before stopping)."""
        await self._edits.flush()

    async def remember(self, activity: Activity, *, personal: bool | None = None) -> None:
        """Store where the bot can write: the person's personal chat, or the channel."""
        if references.is_personal(activity) if personal is None else personal:
            sender = activity.from_property
            object_id = getattr(sender, "aad_object_id", None) if sender else None
            if not object_id:
                return
            key = references.user_key(object_id)
        else:
            assert activity.conversation is not None
            key = references.channel_key(activity.conversation.id)
        await asyncio.to_thread(
            references.store, self.engine, key, references.reference_json(activity)
        )

    async def forget(self, activity: Activity) -> None:
        if references.is_personal(activity):
            sender = activity.from_property
            object_id = getattr(sender, "aad_object_id", None) if sender else None
            if object_id:
                await asyncio.to_thread(
                    references.forget, self.engine, references.user_key(object_id)
                )
        elif activity.conversation is not None:
            await asyncio.to_thread(
                references.forget,
                self.engine,
                references.channel_key(activity.conversation.id),
            )
