"""What lives as long as the Slack app: metrics, seen event ids, per-channel pacing, the
HTTP clients."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import httpx
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Engine, delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.core import clock
from bot.store.models import SlackEvent

log = logging.getLogger(__name__)

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
    """Event ids this process saw lately, the oldest forgotten first: spares the database a
    retry that reaches the same instance (SharedSeenEvents decides across instances)."""

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


class SharedSeenEvents:
    """Event ids taken by any instance on the same database: the `slack_event` table.

    The first instance to insert an event id processes the event; the insert does nothing when
    the id is there already (INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL, a
    caught IntegrityError elsewhere), so every other instance learns it was taken and skips it,
    even when Slack's retry reaches another instance than the first delivery did. Rows older
    than `keep` are pruned now and then, by whichever instance comes by.

    `first_time` blocks on the database: call it in a worker thread.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        keep: timedelta = timedelta(days=1),
        prune_every: float = 3600.0,
    ) -> None:
        self.engine = engine
        self.keep = keep
        self.prune_every = prune_every
        self._next_prune = 0.0  # time.monotonic(): prune at the first call, then now and then
        self._prune_lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        now = clock.now()
        with self.engine.begin() as conn:
            dialect = conn.dialect.name
            if dialect in ("sqlite", "postgresql"):
                taken = conn.execute(_insert_once(dialect, event_id, now)).first() is not None
            else:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(SlackEvent).values(event_id=event_id, seen_at=now))
                    taken = True
                except IntegrityError:
                    taken = False
        self._maybe_prune(now)
        return taken

    def prune(self, now: datetime | None = None) -> int:
        """Forget event ids seen more than `keep` ago; how many were forgotten."""
        before = (now or clock.now()) - self.keep
        with self.engine.begin() as conn:
            result = conn.execute(delete(SlackEvent).where(col(SlackEvent.seen_at) < before))
        return int(result.rowcount)

    def _maybe_prune(self, now: datetime) -> None:
        if time.monotonic() < self._next_prune or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._next_prune = time.monotonic() + self.prune_every
            self.prune(now)
        except Exception as exc:  # pruning can wait for the next time
            log.warning("slack: pruning seen event ids failed: %s", type(exc).__name__)
        finally:
            self._prune_lock.release()


def _insert_once(dialect: str, event_id: str, now: datetime) -> Any:
    """An insert of the event id that inserts (and returns) nothing when it is there already.

    RETURNING rather than rowcount: psycopg reports no rowcount for this statement."""
    make = sqlite.insert if dialect == "sqlite" else postgresql.insert
    return (
        make(SlackEvent)
        .values(event_id=event_id, seen_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(col(SlackEvent.event_id))
    )


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
