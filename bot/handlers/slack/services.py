"""What lives as long as the Slack app: metrics, seen event ids, per-channel pacing, the
HTTP clients."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import httpx
from prometheus_client import CollectorRegistry, Counter

# --- what lives as long as the app ------------------------------------------------------------


class Metrics:
    """Prometheus counters, in a registry of their own (no process-wide state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "vangnet_slack_commands",
            "Slack slash commands, buttons, forms and messages handled",
            ["kind"],
            registry=self.registry,
        )
        self.sent = Counter(
            "vangnet_slack_messages_sent",
            "Messages posted to Slack (direct messages and answers)",
            registry=self.registry,
        )

    def handled(self, kind: str) -> None:
        self.commands.labels(kind=kind).inc()


class SeenEvents:
    """Event ids seen lately: in memory, per process, the oldest forgotten first."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


class ChannelPacer:
    """At most one message per `interval` seconds per channel (Slack's posting limit)."""

    def __init__(self, interval: float = 1.0, size: int = 10_000) -> None:
        self.interval = interval
        self.size = size
        self._next: OrderedDict[str, float] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def slot(self, channel: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            wait = self._next.get(channel, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                # counted from when the send ended: a send that waited out a 429 inside
                # the client is not followed at once by the next one
                self._next[channel] = time.monotonic() + self.interval
                self._next.move_to_end(channel)
        while len(self._next) > self.size:  # forget the quietest channels
            quiet, _ = self._next.popitem(last=False)
            if quiet in self._locks and not self._locks[quiet].locked():
                del self._locks[quiet]


@dataclass
class SlackServices:
    """What the Slack transport holds for its lifetime; whoever opens it closes it."""

    metrics: Metrics = field(default_factory=Metrics)
    pacer: ChannelPacer = field(default_factory=ChannelPacer)
    seen: SeenEvents = field(default_factory=SeenEvents)
    session: aiohttp.ClientSession | None = None  # for the Slack Web API
    http: httpx.AsyncClient | None = None  # for downloading files
    dm_channels: OrderedDict[str, str] = field(default_factory=OrderedDict)

    @classmethod
    async def open(cls) -> SlackServices:
        return cls(session=aiohttp.ClientSession(), http=httpx.AsyncClient(timeout=30.0))

    def http_client(self) -> httpx.AsyncClient:
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=30.0)
        return self.http

    def remember_dm(self, user: str, channel: str) -> None:
        self.dm_channels[user] = channel
        if len(self.dm_channels) > 10_000:
            self.dm_channels.popitem(last=False)

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        if self.session is not None:
            await self.session.close()
