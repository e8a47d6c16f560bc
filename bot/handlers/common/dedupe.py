"""Dedupe of a platform's retried deliveries: each event is processed once.

Platforms deliver an event again when they think it was not received (Slack retries with the
same event_id; Telegram's updates keep a record of their own, `telegram/inbox`). The first
instance to record the id in the database processes the event; every other delivery of it,
on this instance or another behind the same load balancer, is acknowledged and skipped. The
ids this instance saw lately are also kept in memory, so a retry reaching the same instance
spares the database.

An acknowledgement never waits long for the record: when the database is busy with a long
write (an import holding SQLite's write lock), after `SHARED_WAIT` the table is read instead
(which never waits for a writer) and the id is recorded once the write ends. Only a retry
reaching another instance during that long write could then be processed twice.

Ids that come in at the same time are recorded together: while one write of ids is under
way, the ids that arrive meanwhile wait for it and then go in one INSERT of their own (a
group commit). Twenty requests at once are then a few write transactions, not twenty
queueing one by one for SQLite's write lock (or for PostgreSQL's commits).

The table is `slack_event` for history's sake (Slack was the first to need it): any
transport may use it, with a `namespace` that keeps its ids apart from another platform's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from cachetools import LRUCache
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.core import clock
from bot.logs import log_failure
from bot.store.db import reader
from bot.store.models import SlackEvent

log = logging.getLogger(__name__)
SHARED_WAIT = 1.0  # seconds an acknowledgement waits for the database's record of an id
BATCH_MAX = 500  # ids in one INSERT (well under any database's limit of bound parameters)


class SeenEvents:
    """Event ids this process saw lately, the least recently seen forgotten first: spares
    the database a retry that reaches the same instance (SharedSeenEvents decides across
    instances)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: LRUCache[str, None] = LRUCache(maxsize=size)

    def first_time(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids[event_id] = None  # seen again: the most recent now
            return False
        self._ids[event_id] = None
        return True


class SharedSeenEvents:
    """Event ids taken by any instance on the same database (the `slack_event` table).

    The first instance to insert an event id processes the event; the insert does nothing when
    the id is there already (INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL, a
    caught IntegrityError elsewhere), so every other instance learns it was taken and skips it,
    even when a retry reaches another instance than the first delivery did. Rows older than
    `keep` are pruned now and then, by whichever instance comes by. Ids are stored as
    `namespace` + the platform's id (Slack's without a namespace, as they always were).

    `first_time` and `first_times` block on the database: call them in a worker thread.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        namespace: str = "",
        keep: timedelta = timedelta(days=1),
        prune_every: float = 3600.0,
    ) -> None:
        self.engine = engine
        self.namespace = namespace
        self.keep = keep
        self.prune_every = prune_every
        self._next_prune = 0.0  # time.monotonic(): prune at the first call, then now and then
        self._prune_lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        return event_id in self.first_times([event_id])

    def first_times(self, event_ids: Sequence[str]) -> set[str]:
        """Record the ids in one transaction; those this call took first (no instance had
        recorded them before)."""
        keys = {self.namespace + event_id: event_id for event_id in event_ids}
        now = clock.now()
        taken: set[str] = set()
        with self.engine.begin() as conn:
            dialect = conn.dialect.name
            if dialect in ("sqlite", "postgresql"):
                ordered = list(keys)
                for start in range(0, len(ordered), BATCH_MAX):
                    chunk = ordered[start : start + BATCH_MAX]
                    rows = conn.execute(_insert_once(dialect, chunk, now)).all()
                    taken |= {keys[key] for (key,) in rows}
            else:
                for key, event_id in keys.items():
                    try:
                        with conn.begin_nested():
                            conn.execute(insert(SlackEvent).values(event_id=key, seen_at=now))
                        taken.add(event_id)
                    except IntegrityError:
                        pass
        self._maybe_prune(now)
        return taken

    def seen_before(self, event_id: str) -> bool:
        """Whether the id was recorded already; a read, which never waits for a writer."""
        with reader(self.engine).begin() as conn:
            found = conn.execute(
                select(col(SlackEvent.event_id)).where(
                    col(SlackEvent.event_id) == self.namespace + event_id
                )
            ).first()
        return found is not None

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
            log.warning("dedupe: pruning seen event ids failed: %s", type(exc).__name__)
        finally:
            self._prune_lock.release()


# where a transport's route leaves a request's replay key for its listeners (`first_delivery`)
REPLAY_KEY = "vangnet_replay_key"


class Dedupe:
    """Both together, for an async transport: `first_time` asks memory, then the database."""

    def __init__(
        self, seen: SeenEvents, shared: SharedSeenEvents, *, wait: float = SHARED_WAIT
    ) -> None:
        self.seen = seen
        self.shared = shared
        self.wait = wait
        self._recording: set[asyncio.Future[None]] = set()
        # ids waiting for the next write (each with the futures of whoever asked), and
        # whether a write is under way
        self._waiting: dict[str, list[asyncio.Future[bool]]] = {}
        self._writing = False

    async def first_time(self, event_id: str) -> bool:
        """Whether this delivery of the event is the first, here or on any other instance."""
        if not self.first_here(event_id):
            return False  # this instance saw it already: no need to ask the database
        return await self.first_anywhere(event_id)

    async def first_delivery(self, context: Mapping[str, Any]) -> bool:
        """For a request the transport's route let through on `first_here` and marked with
        its key in `context` (REPLAY_KEY): whether no other instance took it already. Asked
        after the acknowledgement, so that never waits for the database."""
        key = context.get(REPLAY_KEY)
        if not isinstance(key, str) or await self.first_anywhere(key):
            return True
        log.info("a request that another instance processed came again")
        return False

    def first_here(self, event_id: str) -> bool:
        """Whether this instance sees the event for the first time (memory only, no wait)."""
        return self.seen.first_time(event_id)

    async def first_anywhere(self, event_id: str) -> bool:
        """Whether no other instance took the event yet (the database; call `first_here`
        first)."""
        try:
            recording = self._record(event_id)
            try:
                return await asyncio.wait_for(asyncio.shield(recording), timeout=self.wait)
            except TimeoutError:
                # the database is busy with a long write: the id is recorded once it can be;
                # meanwhile the table is read, which never waits for a writer
                return not await asyncio.to_thread(self.shared.seen_before, event_id)
        except Exception as exc:  # better processed twice than not at all
            log_failure(log, "dedupe: could not record event %s", event_id, exc=exc)
            return True

    def _record(self, event_id: str) -> asyncio.Future[bool]:
        """The id joins the next write of ids; the future says whether this asker took it
        first (of two asking for the same id at once, only one can)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)
        self._waiting.setdefault(event_id, []).append(future)
        if not self._writing:
            self._writing = True
            writing = asyncio.ensure_future(self._write())
            self._recording.add(writing)
            writing.add_done_callback(self._recording.discard)
        return future

    async def _write(self) -> None:
        """Write the waiting ids, a batch at a time, until none wait."""
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    taken = await asyncio.to_thread(self.shared.first_times, list(batch))
                except Exception as exc:  # logged once here, whoever still waits for it
                    log_failure(log, "dedupe: could not record %d events", len(batch), exc=exc)
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for event_id, futures in batch.items():
                    for n, future in enumerate(futures):
                        if not future.done():
                            future.set_result(n == 0 and event_id in taken)
        finally:
            self._writing = False


def _retrieved(recording: asyncio.Future[bool]) -> None:
    """A failed write whose asker stopped waiting is not reported as never retrieved (`_write`
    logged it)."""
    if not recording.cancelled():
        recording.exception()


def _insert_once(dialect: str, event_ids: Sequence[str], now: datetime) -> Any:
    """An insert of the event ids that inserts (and returns) nothing for one that is there
    already.

    RETURNING rather than rowcount: psycopg reports no rowcount for this statement."""
    make = sqlite.insert if dialect == "sqlite" else postgresql.insert
    return (
        make(SlackEvent)
        .values([{"event_id": event_id, "seen_at": now} for event_id in event_ids])
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(col(SlackEvent.event_id))
    )
