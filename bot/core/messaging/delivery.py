"""Sending what the outbox holds, for any transport, without losing or doubling messages.

A transport runs a `Courier` (through `deliver_pending` for one pass, or the transport
layer's delivery loop for good) with two things: how to reach a person on it (or None), and
how to send one reply there. Each person with due messages gets a worker of their own that
sends theirs one after the other, in the order they were recorded, as fast as the
transport's pace per chat allows, and leases their next ones as soon as it is through: no
person waits for another's (there are no rounds that wait for the slowest), and at most
`PEOPLE_AT_ONCE` people are sent to at the same time. Pending messages are leased person by
person (`leases`): one instance at a time sends to a person (on PostgreSQL the person's row
is locked, FOR NO KEY UPDATE SKIP LOCKED, while their messages are leased), so several
instances never send the same row, never reorder one person's messages, and together keep to
the platform's pace per chat (each paces its own chats; a direct message is one person's).

A message is marked sent only after `send` returned, and a failed send is retried later with
back-off; until it went through (or failed `leases.ORDER_PATIENCE` times) the person's later
messages wait behind it. The one duplicate that can happen: the process dies after the
platform accepted a message and before the database recorded it as sent (on Slack,
`find_sent` closes that window).

`send` returns the platform's reference of the message it posted (or None), which is kept so
that a later edit (an outbox row with `replaces_id`) can change that message with `edit`. An
edit whose message is still on its way waits for it; one whose message cannot be edited (sent
elsewhere, or dropped) is dropped itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, cast

from sqlalchemy import Engine

from bot.core.messaging import attempts, leases, verdicts
from bot.core.messaging.attempts import (
    EDIT_WAIT,
    MAX_BACKOFF,
    Edit,
    FindSent,
    Leased,
    Send,
    backoff,
    retry_after,
)
from bot.core.messaging.leases import due_now, lease_pending, release
from bot.core.messaging.outbox import mark_sent_by_id
from bot.logs import log_failure
from bot.store.db import session_scope
from bot.store.models import Person

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

# People sent to at the same time. Each worker mostly waits for its chat's pace, so this
# bounds the database work (a lease per batch, a "sent" mark per message, written together
# with the other workers' marks) more than the sending.
PEOPLE_AT_ONCE = 32
# A worker leases this many of its person's messages at a time: at one a second well inside
# `leases.LEASE`, and few enough that a stop leaves little to release.
PER_PERSON = 10

__all__ = [
    "EDIT_WAIT",
    "MAX_BACKOFF",
    "PEOPLE_AT_ONCE",
    "Courier",
    "Edit",
    "FindSent",
    "Send",
    "backoff",
    "deliver_pending",
    "lease_pending",
    "retry_after",
]


class Courier:
    """Delivery on one transport: a worker per person with due messages (see the module).

    `dispatch` looks at the outbox once and starts workers for people who have none here;
    the workers go on by themselves. `unconfirmed` (id → platform reference) holds what the
    platform accepted but the database could not record as sent (it went away): recorded
    first thing at the next dispatch, never sent again. `stalled` holds what failed while the
    platform could not be reached (see `_judge`). When `stop` is set, the sends under way
    finish and what is still leased is released at once for the next process to send.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        via: str,
        address_of: Callable[[Person], str | None],
        send: Send,
        edit: Edit | None = None,
        find_sent: FindSent | None = None,
        limit: int = 50,
        stop: asyncio.Event | None = None,
        unconfirmed: dict[int, str | None] | None = None,
        stalled: set[int] | None = None,
        reach: verdicts.Reach | None = None,
    ) -> None:
        self.engine = engine
        self.reach = reach
        self.via = via
        self.address_of = address_of
        self.send = send
        self.edit = edit
        self.find_sent = find_sent
        self.limit = limit
        self.stop = stop or asyncio.Event()
        self.unconfirmed = {} if unconfirmed is None else unconfirmed
        self.stalled = stalled
        self.sent = 0  # sent (edits included) since this courier started
        self.workers: dict[str, asyncio.Task[None]] = {}  # person id → their worker
        # set when a worker ends while people may be waiting for room (the last dispatch
        # filled every place): the loop then dispatches at once instead of after its interval
        self.room = asyncio.Event()
        self._crowded = False
        self._probe: int | None = None
        self._sent_since = 0  # since the last `_judge`
        self._unreachable: list[int] = []
        # what the workers record as sent, and whom they ask about, in units shared between
        # them (see `Together`)
        self._records: Together[tuple[int, str | None], None] = Together(
            lambda sent: _confirm(self.engine, dict(sent), self.via)
        )
        self._asked: Together[str, bool] = Together(self._more_due)

    async def dispatch(self) -> int:
        """Record what was sent but not recorded, judge whether the platform is back, and
        start a worker for each person with due messages who has none (as many as there is
        room for). Returns how many workers it started."""
        if self.unconfirmed:
            await asyncio.to_thread(_confirm, self.engine, self.unconfirmed, self.via)
        await self._judge()
        self._probe = None
        if self.stalled:  # is the platform back? the oldest of those messages is tried now
            probe = min(self.stalled)
            if await asyncio.to_thread(due_now, self.engine, [probe]):
                self._probe = probe
            else:
                self.stalled.discard(probe)  # sent meanwhile (by another instance)
        return await self._start_workers()

    async def _start_workers(self) -> int:
        room = PEOPLE_AT_ONCE - len(self.workers)
        if room <= 0:
            self._crowded = True
            return 0
        # who waits, then only their addresses: nothing else is read, and no write lock
        # taken, when nobody does
        waiting = await asyncio.to_thread(leases.waiting, self.engine, besides=list(self.workers))
        if not waiting:
            self._crowded = False
            return 0
        free = await asyncio.to_thread(attempts.reachable, self.engine, self.address_of, waiting)
        unreached = [p for p in waiting if p not in free]
        if unreached and self.reach is not None:  # marked unreachable: hold, send cases on
            try:
                await asyncio.to_thread(self.reach.hold, unreached)
            except Exception as exc:  # the others' messages go on; looked at next time
                log_failure(
                    log, "%s: holding messages of unreachable people failed", self.via, exc=exc
                )
        leased = await asyncio.to_thread(
            attempts.lease,
            self.engine,
            via=self.via,
            addresses=free,
            editable=self.edit is not None,
            limit=self.limit,
            people=room,
        )
        queues: dict[str, list[Leased]] = {}
        for item in leased:
            queues.setdefault(item.person_id, []).append(item)
        self._crowded = len(queues) >= room
        for person, queue in queues.items():
            self.workers[person] = asyncio.create_task(self._work(person, free[person], queue))
        if queues:  # counts only: who gets what is personal
            log.debug("%s: %d people started, %d at work", self.via, len(queues), len(self.workers))
        return len(queues)

    async def drain(self, *, refill: bool = False) -> None:
        """Wait until every worker is done (each has sent all that was due for its person,
        or stopped). With `refill`, a worker that ends makes room for a person who waited
        for it (when the workers were as many as allowed)."""
        while self.workers:
            await asyncio.wait(list(self.workers.values()), return_when=asyncio.FIRST_COMPLETED)
            if refill and self._crowded and not self.stop.is_set():
                try:
                    await self._start_workers()
                except Exception as exc:  # the database went away: the rest next time
                    log_failure(log, "%s: no more people started", self.via, exc=exc)
                    refill = False

    async def _work(self, person: str, address: str | None, queue: list[Leased]) -> None:
        """One person's messages in order, batch after batch, until none is due (or one
        failed: the rest wait behind it, or the courier stops)."""
        try:
            while address is not None and queue and await self._send_in_order(address, queue):
                if self.stop.is_set():
                    break
                # asked first as a read (with the other workers' questions), which takes no
                # write lock: most often nothing more is due
                if not await self._asked.add(person):
                    break
                address, queue = await asyncio.to_thread(self._next_batch, person)
        except Exception as exc:  # the database went away: the leases run out
            log_failure(log, "%s: a person's delivery stopped", self.via, exc=exc)
        finally:
            del self.workers[person]
            if self._crowded:
                self.room.set()

    def _more_due(self, people: list[str]) -> list[bool]:
        """Whether each of these people has messages due that nobody holds: one read."""
        due = set(leases.waiting(self.engine, of=people))
        return [person in due for person in people]

    def _next_batch(self, person: str) -> tuple[str | None, list[Leased]]:
        """The person's next due messages, if they are still active and reachable here."""
        addresses = attempts.reachable(self.engine, self.address_of, [person])
        leased = attempts.lease(
            self.engine,
            via=self.via,
            addresses=addresses,
            editable=self.edit is not None,
            limit=min(self.limit, PER_PERSON),
            people=1,
        )
        return addresses.get(person), leased

    async def _send_in_order(self, address: str, queue: list[Leased]) -> bool:
        """Send a leased batch in order. False if it stopped half-way (a failure, or the
        courier stops); what was not tried is released."""
        for index, item in enumerate(queue):
            if self.stop.is_set():
                await self._release([m.id for m in queue[index:]])
                return False
            if item.how in ("wait", "drop"):
                await asyncio.to_thread(
                    attempts.settle_edit, self.engine, item.id, wait=item.how == "wait"
                )
                continue
            try:
                platform_ref = await attempts.send_one(
                    item, address, self.send, self.edit, self.find_sent
                )
            except Exception as exc:  # the platform said no, or did not answer: later
                await self._failed(item, exc)
                await self._release([m.id for m in queue[index + 1 :]])
                return False
            if self.reach is not None and self.reach.health.pop(self.via, None) is not None:
                log.info("%s: the platform accepts the bot's token again", self.via)
            self.sent += 1
            self._sent_since += 1
            try:
                await self._records.add((item.id, platform_ref))
            except Exception as exc:  # sent, not recorded: remember it, record it next time
                # the person's next ones still go (this one did); a new batch waits for it
                log_failure(log, "outbox %s not recorded yet", item.id, exc=exc)
                self.unconfirmed[item.id] = platform_ref
        return True

    async def _failed(self, item: Leased, exc: Exception) -> None:
        """Sort the failure (`verdicts`): a person who cannot be reached is marked and their
        messages held; a refused token leaves every message waiting; anything else is tried
        again later, and told to the coordinators once when it lasts."""
        message_id = item.id
        failure = verdicts.passing(exc) if self.reach is None else self.reach.judge(exc)
        log.warning(
            "send failed via %s for outbox %s: %s (%s)",
            self.via,
            message_id,
            type(exc).__name__,
            failure.reason,
        )
        if failure.verdict == "unreachable" and self.reach is not None:
            try:
                await asyncio.to_thread(
                    self.reach.unreachable, item.person_id, self.via, failure.reason
                )
                return
            except Exception as again:  # the database away: tried (and judged) again later
                log_failure(log, "%s: marking someone unreachable failed", self.via, exc=again)
        revoked = failure.verdict == "revoked" and self.reach is not None
        if revoked and self.reach is not None and self.via not in self.reach.health:
            log.error(
                "%s: the platform refuses the bot's token (%s): nothing can be sent until it "
                "is replaced; the messages wait",
                self.via,
                failure.reason,
            )
            self.reach.health[self.via] = failure.reason
        if retry_after(exc) is None:
            self._unreachable.append(message_id)
        lasting = False
        with contextlib.suppress(Exception):  # the database away: the lease runs out
            lasting = await asyncio.to_thread(
                attempts.record_failure,
                self.engine,
                message_id,
                exc,
                counts=message_id != self._probe and not revoked,
                reason=failure.reason,
                patient=revoked and message_id != self._probe,
            )
        if lasting and self.reach is not None:
            with contextlib.suppress(Exception):  # told at a later failure
                await asyncio.to_thread(self.reach.lasting, message_id, self.via)

    async def _release(self, message_ids: list[int]) -> None:
        if message_ids:
            with contextlib.suppress(Exception):  # if the database is away, the lease runs out
                await asyncio.to_thread(release, self.engine, message_ids)

    async def _judge(self) -> None:
        """Messages that failed while nothing got through (the platform could not be
        reached) are kept in `stalled`; one of them is tried at each dispatch; once anything
        gets through, they are all due at once instead of each waiting out its back-off."""
        sent, unreachable = self._sent_since, self._unreachable
        self._sent_since, self._unreachable = 0, []
        if self.stalled is None:
            return
        if sent and self.stalled:
            with contextlib.suppress(Exception):  # if the database is away, their back-off holds
                await asyncio.to_thread(due_now, self.engine, sorted(self.stalled))
                self.stalled.clear()
        elif not sent:
            self.stalled.update(unreachable)


async def deliver_pending(
    engine: Engine,
    *,
    via: str,
    address_of: Callable[[Person], str | None],
    send: Send,
    edit: Edit | None = None,
    limit: int = 50,
    unconfirmed: dict[int, str | None] | None = None,
    stalled: set[int] | None = None,
    stop: asyncio.Event | None = None,
    find_sent: FindSent | None = None,
    reach: verdicts.Reach | None = None,
) -> int:
    """One pass: a worker for each person with due messages (up to `PEOPLE_AT_ONCE` at once,
    the next starting as one ends), each sending all that is due for its person; returns
    how many were sent (edits included).
    `unconfirmed` and `stalled` are kept between passes by the caller (see `Courier`).

    The database is used in worker threads, never on the event loop. A message whose
    earlier lease ran out (the process sending it died) may have reached the platform
    already: with `find_sent`, the transport looks for it first (Slack: the DM's recent
    history, by the outbox id in the message's metadata) and it is only recorded, not posted
    again.
    """
    courier = Courier(
        engine,
        via=via,
        address_of=address_of,
        send=send,
        edit=edit,
        find_sent=find_sent,
        limit=limit,
        stop=stop,
        unconfirmed=unconfirmed,
        stalled=stalled,
        reach=reach,
    )
    await courier.dispatch()
    await courier.drain(refill=True)
    await courier._judge()
    return courier.sent


class Together(Generic[T, R]):
    """Work that many workers ask for at about the same time, done for them together: `add`
    returns the result for its item once the unit it went into is done (or raises what that
    unit raised). While one unit is under way in a worker thread, the items added meanwhile
    wait for it and then go together into the next; the first item goes at once, so nothing
    waits for company. `work` takes a list of items and returns a result for each, in order.
    """

    def __init__(self, work: Callable[[list[T]], Sequence[R] | None]) -> None:
        self._work = work
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running: asyncio.Task[None] | None = None

    async def add(self, item: T) -> R:
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._running is None:
            self._running = asyncio.create_task(self._run())
        return await done

    async def _run(self) -> None:
        try:
            while self._waiting:
                unit, self._waiting = self._waiting, []
                try:
                    results = await asyncio.to_thread(self._work, [item for item, _ in unit])
                except Exception as exc:
                    for _, done in unit:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                except BaseException:  # cancelled: so are those waiting for it
                    for _, done in [*unit, *self._waiting]:
                        done.cancel()
                    raise
                for k, (_, done) in enumerate(unit):
                    if not done.done():
                        done.set_result(cast(R, None if results is None else results[k]))
        finally:
            self._running = None


def _confirm(engine: Engine, sent: dict[int, str | None], via: str) -> None:
    """Record as sent what the platform accepted; `sent` is emptied once it is recorded."""
    with session_scope(engine) as session:
        for message_id, platform_ref in sent.items():
            mark_sent_by_id(session, message_id, via=via, platform_ref=platform_ref)
    sent.clear()
