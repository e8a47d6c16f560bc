"""Sending to Slack: messages in a channel, ephemeral answers, edits, charts, all paced.

Every message the bot posts goes through the shared privacy rule (`common.privacy`): in a
direct message (a "D" channel) everything may be shown; anywhere else a personal reply goes
to the person's direct message instead, with a short note where it would have been. An
ephemeral answer (through a response_url) is only seen by the person it answers, so it
counts as a private place.

Messages for everyone in a channel (`Reply.to_place`: a scan's voting message, its results)
are posted there; one with `updates` is posted once and then edited (chat.update) under its
key, which the database remembers (`common.places`). Edits of one message are coalesced
(`common.edits`): while one waits for the channel's pace (one message a second), newer states
replace it, and only the last is sent; never one new message per vote.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy import Engine

from bot.core.i18n import Translator
from bot.core.messaging.delivery import SENDING
from bot.core.replies import Reply
from bot.handlers.common import places
from bot.handlers.common.edits import LatestEdits
from bot.handlers.common.privacy import place
from bot.handlers.slack.render import SlackMessage, render
from bot.handlers.slack.services import SlackServices

log = logging.getLogger(__name__)

RESPONSE_URL_USES = 5  # Slack accepts at most five answers through one response_url
# Message metadata tagging what the outbox posted with its id, to find it after a crash
OUTBOX_EVENT = "vangnet_outbox"
HISTORY_LOOKBACK = 100  # recent messages of the direct message looked through
NOT_IN_CHANNEL = "not_in_channel"


class NotInChannel(Exception):
    """The bot cannot post in the channel: it must be invited first."""


@dataclass(frozen=True)
class _Edit:
    channel: str
    ts: str
    message: SlackMessage


def slack_place(channel: str) -> str:
    """The core's name of a Slack channel as a place."""
    return f"slack:{channel}"


def is_direct(channel: str) -> bool:
    """Whether `channel` is a direct message (Slack's ids of those begin with "D")."""
    return channel.startswith("D")


class SlackSender:
    def __init__(
        self, client: AsyncWebClient, services: SlackServices, engine: Engine | None = None
    ) -> None:
        self.client = client
        self.services = services
        self.engine = engine  # where the messages updated in place are remembered
        self._edits = LatestEdits(services.pacer)  # edits of messages shown in channels

    async def dm_channel(self, user: str) -> str:
        known = self.services.dm_channels.get(user)
        if known is not None:
            return known
        response = await self.client.conversations_open(users=user)
        channel = response.get("channel")
        if not isinstance(channel, dict) or not isinstance(channel.get("id"), str):
            raise RuntimeError("conversations.open answered without a channel id")
        self.services.remember_dm(user, channel["id"])
        return str(channel["id"])

    async def post(
        self, channel: str, replies: Sequence[Reply], *, user: str, t: Translator
    ) -> list[str]:
        """Post replies as messages in `channel`, where `user` spoke, obeying the privacy rule
        (personal replies outside a direct message go to `user`'s instead). Returns the
        timestamps Slack gave the messages posted in `channel` (their ids there)."""
        placed = place(replies, private_here=is_direct(channel), t=t)
        stamps = await self._post(channel, placed.here)
        if placed.private:
            await self._post(await self.dm_channel(user), placed.private)
        return stamps

    async def _post(
        self, channel: str, replies: Sequence[Reply], *, outbox_id: int | None = None
    ) -> list[str]:
        """Post replies in `channel`, one message a second at most. The first message of an
        outbox message carries its id as message metadata (see `find_sent`)."""
        stamps: list[str] = []
        for reply in replies:
            for message in render(reply):
                tagged = outbox_id is not None and not stamps
                async with self.services.pacer.slot(channel):
                    response = await self.client.chat_postMessage(
                        channel=channel,
                        text=message.text,
                        blocks=message.blocks_json(),
                        metadata=_outbox_metadata(outbox_id) if tagged else None,
                    )
                self.services.metrics.sent.inc()
                ts = response.get("ts")
                if isinstance(ts, str):
                    stamps.append(ts)
            await self._upload_image(channel, reply)
        return stamps

    async def _upload_image(self, channel: str, reply: Reply) -> None:
        """A reply's chart and file, with the files upload v2 flow
        (files.getUploadURLExternal …)."""
        uploads = []
        if reply.image_png is not None:
            uploads.append((reply.image_png, "chart.png", reply.image_title or "chart"))
        if reply.file is not None:
            name = reply.file_name or "vangnet.txt"
            uploads.append((reply.file, name, name))
        for content, filename, title in uploads:
            async with self.services.pacer.slot(channel):  # the upload posts a message too
                await self.client.files_upload_v2(
                    channel=channel, content=content, filename=filename, title=title
                )

    async def to_place(
        self, channel: str, replies: Sequence[Reply], *, user: str, t: Translator
    ) -> None:
        """Replies for everyone in `channel`: posted there, or (with `updates`) the message
        shown under that key edited. The privacy rule holds: a personal reply never goes in a
        channel. Raises NotInChannel when the bot is not a member of it."""
        placed = place(replies, private_here=is_direct(channel), t=t)
        try:
            for reply in placed.here:
                if reply.updates is not None and self.engine is not None:
                    await self._show_updated(channel, reply.updates, reply)
                else:
                    await self._post(channel, [reply])
        except SlackApiError as problem:
            if problem.response.get("error") == NOT_IN_CHANNEL:
                raise NotInChannel(channel) from problem
            raise
        if placed.private:
            await self._post(await self.dm_channel(user), placed.private)

    async def _show_updated(self, channel: str, key: str, reply: Reply) -> None:
        assert self.engine is not None
        where = slack_place(channel)
        ref = await asyncio.to_thread(places.shown_at, self.engine, key, where)
        message = render(reply)[0]  # an edit cannot add messages: one page
        if ref is not None:
            ref_channel, _, ref_ts = ref.partition(":")
            self._edit_later(key, _Edit(ref_channel, ref_ts, message))
            return
        async with self.services.pacer.slot(channel):
            response = await self.client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks_json()
            )
        self.services.metrics.sent.inc()
        ts = response.get("ts")
        if isinstance(ts, str):
            await asyncio.to_thread(places.remember, self.engine, key, where, f"{channel}:{ts}")
        await self._upload_image(channel, reply)

    def _edit_later(self, key: str, edit: _Edit) -> None:
        """Show `edit` as soon as the channel's pace allows; a newer state for the same key
        that comes meanwhile replaces it (the last state wins: `common.edits`)."""

        async def update() -> None:
            try:
                await self.client.chat_update(
                    channel=edit.channel,
                    ts=edit.ts,
                    text=edit.message.text,
                    blocks=edit.message.blocks_json(),
                )
            except SlackApiError as problem:
                log.warning(
                    "slack: a message could not be updated: %s", problem.response.get("error")
                )
                return
            self.services.metrics.sent.inc()

        self._edits.show(key, edit.channel, update)

    async def flush(self) -> None:
        """Wait until every edit waiting for its turn is shown (before stopping)."""
        await self._edits.flush()

    async def send(self, user: str, reply: Reply) -> str | None:
        """One reply to a person's direct message: the outbox's way out. Returns where the
        message is ("channel:ts"), so that it can be edited later (a card someone claimed).

        If a reply of several pages (or with a chart) fails half-way, the outbox sends it
        again whole, so its first part can arrive twice; a single message cannot.
        """
        channel = await self.dm_channel(user)
        stamps = await self._post(channel, [reply], outbox_id=SENDING.get())
        return f"{channel}:{stamps[0]}" if stamps else None

    async def find_sent(self, user: str, outbox_id: int) -> str | None:
        """Where outbox message `outbox_id` already is in the person's direct message ("channel:
        ts"), if an earlier attempt posted it before the process died; None if it is not
        among the recent messages there."""
        channel = await self.dm_channel(user)
        response = await self.client.conversations_history(
            channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
        )
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == OUTBOX_EVENT
                and payload.get("outbox_id") == outbox_id
                and isinstance(message.get("ts"), str)
            ):
                return f"{channel}:{message['ts']}"
        return None

    async def edit(self, user: str, where: str, reply: Reply) -> None:
        """Change a message sent earlier (`where` as `send` returned it) to show `reply`: its
        first page, since an edit cannot add messages. `send` only posts in direct messages,
        so an edit only changes a message there."""
        channel, _, ts = where.partition(":")
        message = render(reply)[0]
        async with self.services.pacer.slot(channel):
            await self.client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.blocks_json()
            )
        self.services.metrics.sent.inc()

    async def send_all(self, user: str, replies: Sequence[Reply]) -> None:
        """Replies to the person's direct message, a private place."""
        await self._post(await self.dm_channel(user), replies)

    async def answer_ephemeral(
        self, respond: AsyncRespond, user: str, replies: Sequence[Reply]
    ) -> None:
        """Through the response_url: only the caller sees it, so personal replies may go
        there too. What does not fit Slack's five uses of one response_url goes to the
        caller's direct message instead of being lost."""
        messages: list[SlackMessage] = [m for r in replies for m in render(r)]
        for message in messages[:RESPONSE_URL_USES]:
            await self._respond(respond, message)
            self.services.metrics.sent.inc()
        if len(messages) > RESPONSE_URL_USES:
            channel = await self.dm_channel(user)
            for message in messages[RESPONSE_URL_USES:]:
                async with self.services.pacer.slot(channel):
                    await self.client.chat_postMessage(
                        channel=channel, text=message.text, blocks=message.blocks_json()
                    )
                self.services.metrics.sent.inc()
        for reply in replies:  # a chart or file cannot go through a response_url: to the DM
            if reply.image_png is not None or reply.file is not None:
                await self._upload_image(await self.dm_channel(user), reply)

    async def _respond(self, respond: AsyncRespond, message: SlackMessage) -> None:
        """One ephemeral answer through the response_url, on the app's HTTP session: bolt's
        `respond` opens a session (and a connection) of its own for every answer."""
        session = self.services.session
        if respond.response_url is None or session is None or session.closed:
            await respond(
                text=message.text,
                blocks=message.blocks_json(),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        client = AsyncWebhookClient(
            url=respond.response_url, session=session, proxy=respond.proxy, ssl=respond.ssl
        )
        await client.send(
            text=message.text,
            blocks=message.blocks_json(),
            response_type="ephemeral",
            replace_original=False,
        )


def _outbox_metadata(outbox_id: int | None) -> dict[str, object] | None:
    if outbox_id is None:
        return None
    return {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": outbox_id}}
