"""Sending what the outbox holds, for any transport, without losing or doubling messages.

A transport calls `deliver_pending` regularly with two things: how to reach a person on it (or
None), and how to send one reply there. Pending messages are leased person by person: one
instance at a time sends to a person (on PostgreSQL the person's row is locked, FOR NO KEY
UPDATE SKIP LOCKED, while their messages are leased), in the order they were recorded, so
several instances never send the same row, never reorder one person's messages, and together
keep to the platform's pace per chat (each paces its own chats; a direct message is one
person's). A round sends to up to `PEOPLE_AT_ONCE` people at the same time, each person's
messages one after the other. A message is marked sent only after `send` returned, and a
failed send is retried later with back-off; until it went through (or failed
`leases.ORDER_PATIENCE` times) the person's later messages wait behind it. The one duplicate that
can happen: the process dies after the platform accepted a message and before the database
recorded it as sent (on Slack, `find_sent` closes that window).

`send` returns the platform's reference of the message it posted (or None), which is kept so
that a later edit (an outbox row with `replaces_id`) can change that message with `edit`. An
edit whose message is still on its way waits for it; one whose message cannot be edited (sent
elsewhere, or dropped) is dropped itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from datetime import timedelta
from typing import Literal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.core import clock
from bot.core.messaging.leases import due_now, lease_pending, release
from bot.core.messaging.outbox import drop, mark_sent, reply_of
from bot.core.replies import Reply
from bot.logs import log_failure
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
EDIT_WAIT = timedelta(seconds=10)  # an edit whose message is not sent yet looks again after this
PEOPLE_AT_ONCE = 10  # people sent to at the same time in a round (each person's in order)

Send = Callable[[str, Reply], Awaitable[str | None]]
# Finds the message the platform shows for an outbox id, if an earlier attempt posted it.
FindSent = Callable[[str, int], Awaitable[str | None]]
# The outbox id of the message being sent, for a transport that can tag what it posts with it
# (Slack's message metadata), so that `find_sent` can look for it after a crash.
SENDING: ContextVar[int | None] = ContextVar("vangnet_outbox_sending", default=None)
Edit = Callable[[str, str, Reply], Awaitable[None]]


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s … at most MAX_BACKOFF, each up to a fifth longer at random: an outage of
    a minute is caught up within seconds of its end, and instances that failed together do
    not all try again at the same moment."""
    seconds = min(2.0 * 2 ** max(attempts - 1, 0), MAX_BACKOFF.total_seconds())
    return timedelta(seconds=seconds * (1 + random.random() / 5))


def retry_after(exc: BaseException) -> timedelta | None:
    """How long the platform asked us to wait, if it said: python-telegram-bot's RetryAfter
    carries `retry_after`; slack_sdk's SlackApiError carries the response's Retry-After."""
    value = getattr(exc, "retry_after", None)
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if isinstance(headers, Mapping):
        raw = headers.get("Retry-After") or headers.get("retry-after")
        if isinstance(raw, str | int) and str(raw).isdigit():
            return timedelta(seconds=int(raw))
    return None


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
) -> int:
    """Send what is due to the people reachable on this transport. Returns how many were sent
    (edits included).

    The database is used in worker threads, never on the event loop. A message the platform
    accepted but the database could not record as sent (it went away) is kept in
    `unconfirmed` (id → platform reference) and recorded first thing next round, so it is
    not sent again; one message's trouble never holds back another person's (their own later
    ones wait behind it). When `stop` is set half-way, the sends under way finish and what
    is still leased is released at once for the next process to send.

    `stalled` (kept between rounds by the caller) holds what failed while the platform could
    not be reached; see `_after_round`.

    A message whose earlier lease ran out (the process sending it died) may have reached the
    platform already: with `find_sent`, the transport looks for it first (Slack: the DM's
    recent history, by the outbox id in the message's metadata) and it is only recorded, not
    posted again.
    """
    if unconfirmed:
        await asyncio.to_thread(_confirm, engine, unconfirmed, via)
    probe = None
    if stalled:  # is the platform back? the oldest of those messages is tried now
        probe = min(stalled)
        if not await asyncio.to_thread(due_now, engine, [probe]):
            stalled.discard(probe)  # sent meanwhile (by another instance)
            probe = None
    leased_before: set[int] = set()
    addresses, leased = await asyncio.to_thread(
        _lease, engine, via, address_of, edit is not None, limit, leased_before
    )
    queues: dict[str, list[Leased]] = {}
    for item in leased:
        queues.setdefault(item[1], []).append(item)
    held_back: list[int] = []  # leased but not tried: released at the end of the round
    unreachable: list[int] = []  # failed without the platform asking us to wait
    room = asyncio.Semaphore(PEOPLE_AT_ONCE)

    async def one_person(queue: list[Leased]) -> int:
        """A person's messages in order; after a failure the rest wait behind it."""
        sent = 0
        async with room:
            for index, (message_id, person_id, reply, (how, target)) in enumerate(queue):
                if stop is not None and stop.is_set():
                    held_back.extend(m[0] for m in queue[index:])
                    break
                if how in ("wait", "drop"):
                    await asyncio.to_thread(_settle_edit, engine, message_id, wait=how == "wait")
                    continue
                address = addresses[person_id]
                again = message_id in leased_before
                try:
                    platform_ref = await _send_one(
                        message_id, address, reply, (how, target), send, edit, find_sent, again
                    )
                except Exception as exc:  # the platform said no, or did not answer: later
                    log.warning(
                        "send failed via %s for outbox %s: %s", via, message_id, type(exc).__name__
                    )
                    if retry_after(exc) is None:
                        unreachable.append(message_id)
                    with contextlib.suppress(Exception):  # the database away: the lease runs out
                        await asyncio.to_thread(
                            _record_failure, engine, message_id, exc, counts=message_id != probe
                        )
                    held_back.extend(m[0] for m in queue[index + 1 :])
                    break
                sent += 1
                try:
                    await asyncio.to_thread(_confirm, engine, {message_id: platform_ref}, via)
                except Exception as exc:  # sent, not recorded: remember it, record it next round
                    log_failure(log, "outbox %s not recorded yet", message_id, exc=exc)
                    if unconfirmed is not None:
                        unconfirmed[message_id] = platform_ref
        return sent

    sent = sum(await asyncio.gather(*(one_person(q) for q in queues.values())))
    if held_back:
        with contextlib.suppress(Exception):  # if the database is away, the lease runs out
            await asyncio.to_thread(release, engine, held_back)
    if stalled is not None:
        await _after_round(engine, stalled, sent=sent, unreachable=unreachable)
    return sent


async def _after_round(
    engine: Engine, stalled: set[int], *, sent: int, unreachable: list[int]
) -> None:
    """Messages that failed in a round in which nothing got through (the platform could not
    be reached) are kept in `stalled`; one of them is tried every round; once anything gets
    through, they are all due at once instead of each waiting out its back-off."""
    if sent and stalled:
        with contextlib.suppress(Exception):  # if the database is away, their back-off holds
            await asyncio.to_thread(due_now, engine, sorted(stalled))
            stalled.clear()
    elif not sent:
        stalled.update(unreachable)


async def _send_one(
    message_id: int,
    address: str,
    reply: Reply,
    what: tuple[How, str | None],
    send: Send,
    edit: Edit | None,
    find_sent: FindSent | None,
    again: bool,
) -> str | None:
    """Send (or edit) one message; its platform reference. A message sent `again` (its
    earlier lease ran out) is first looked for, where the transport can (`find_sent`)."""
    how, target = what
    if how == "edit":
        assert edit is not None and target is not None
        await edit(address, target, reply)
        return target
    if again and find_sent is not None:
        found = await find_sent(address, message_id)
        if found is not None:
            log.info("outbox %s was sent before a stop; recorded, not sent again", message_id)
            return found
    token = SENDING.set(message_id)
    try:
        return await send(address, reply)
    finally:
        SENDING.reset(token)


Leased = tuple[int, str, Reply, "tuple[How, str | None]"]


def _lease(
    engine: Engine,
    via: str,
    address_of: Callable[[Person], str | None],
    editable: bool,
    limit: int,
    leased_before: set[int],
) -> tuple[dict[str, str], list[Leased]]:
    with session_scope(engine) as session:
        people = session.exec(select(Person).where(col(Person.active))).all()
        addresses = {p.id: a for p in people if (a := address_of(p)) is not None}
        if not addresses:
            return addresses, []
        leased: list[Leased] = [
            (
                int(m.id or 0),
                m.person_id,
                reply_of(m),
                _target(session, m, via=via, editable=editable),
            )
            for m in lease_pending(
                session, person_ids=list(addresses), limit=limit, leased_before=leased_before
            )
        ]
    return addresses, leased


def _confirm(engine: Engine, sent: dict[int, str | None], via: str) -> None:
    """Record as sent what the platform accepted; `sent` is emptied once it is recorded."""
    with session_scope(engine) as session:
        for message_id, platform_ref in sent.items():
            message = session.get(OutboxMessage, message_id)
            if message is not None and message.sent_at is None:
                mark_sent(session, message, via=via, platform_ref=platform_ref)
    sent.clear()


How = Literal["send", "edit", "wait", "drop"]


def _target(
    session: Session, message: OutboxMessage, *, via: str, editable: bool
) -> tuple[How, str | None]:
    """What to do with a leased message: send it; edit the message with this platform
    reference; wait, because the message it edits is not sent yet; or drop it, because the
    message it edits cannot be edited here."""
    if message.replaces_id is None:
        return "send", None
    original = session.get(OutboxMessage, message.replaces_id)
    if original is None or original.dropped_at is not None:
        return "drop", None
    if original.sent_at is None:
        return "wait", None
    if not editable or original.sent_via != via or original.platform_ref is None:
        return "drop", None
    return "edit", original.platform_ref


def _settle_edit(engine: Engine, message_id: int | None, *, wait: bool) -> None:
    with session_scope(engine) as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return
        if wait:
            message.not_before = clock.now() + EDIT_WAIT
            message.leased_until = None
            session.add(message)
        else:
            drop(session, message)


def _record_failure(
    engine: Engine, message_id: int | None, exc: Exception, *, counts: bool = True
) -> None:
    """Back off; `counts=False` for a probe of a platform that could not be reached, which
    keeps its place in its person's order (`ORDER_PATIENCE`) however long the outage."""
    with session_scope(engine) as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return
        message.attempts += 1 if counts else 0
        # the type only: an exception's text may quote the message, and so personal data
        message.last_error = type(exc).__name__
        wait = max(backoff(message.attempts), retry_after(exc) or timedelta(0))
        message.not_before = clock.now() + wait
        message.leased_until = None
        session.add(message)
