"""One message's way out of the outbox: leasing it, sending (or editing) it, and what happens
when that fails. `delivery` decides who is sent to when; this is what it does per message.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Literal, NamedTuple, Protocol

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.core import clock
from bot.core.messaging import verdicts
from bot.core.messaging.leases import lease_pending
from bot.core.messaging.outbox import drop, reply_of
from bot.core.replies import Reply
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
EDIT_WAIT = timedelta(seconds=10)  # an edit whose message is not sent yet looks again after this


class Send(Protocol):
    """A transport's way out: `reply` to `address`; the platform's reference of what it
    posted. `outbox_id` is the outbox message being sent, for a transport that tags what it
    posts with it (Slack's message metadata, so that `find_sent` can look for it after a
    crash) or paces it behind the answers people are waiting for (Telegram)."""

    def __call__(
        self, address: str, reply: Reply, /, *, outbox_id: int | None
    ) -> Awaitable[str | None]: ...


# Finds the message the platform shows for an outbox id, if an earlier attempt posted it.
FindSent = Callable[[str, int], Awaitable[str | None]]
Edit = Callable[[str, str, Reply], Awaitable[None]]
How = Literal["send", "edit", "wait", "drop"]


class Leased(NamedTuple):
    """A leased message and what to do with it: send it; edit the message with platform
    reference `target`; wait, because the message it edits is not sent yet; or drop it,
    because the message it edits cannot be edited here. `again`: an earlier lease of it ran
    out (whoever held it stopped, perhaps after sending it)."""

    id: int
    person_id: str
    reply: Reply
    how: How
    target: str | None
    again: bool


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


def lease(
    engine: Engine,
    *,
    via: str,
    addresses: Mapping[str, str],
    editable: bool,
    limit: int,
    people: int,
) -> list[Leased]:
    """Lease due messages of up to `people` of these people (person id → address), up to
    `limit` messages, in the order they were recorded."""
    if not addresses or people <= 0:
        return []
    again: set[int] = set()
    with session_scope(engine) as session:
        rows = lease_pending(
            session, person_ids=list(addresses), limit=limit, of_people=people, leased_before=again
        )
        leased = []
        for m in rows:
            how, target = _target(session, m, editable, via)
            ident = int(m.id or 0)
            leased.append(Leased(ident, m.person_id, reply_of(m), how, target, ident in again))
        return leased


def reachable(
    engine: Engine, address_of: Callable[[Person], str | None], ids: Sequence[str] = ()
) -> dict[str, str]:
    """The active people (all, or those of `ids`) this transport reaches: id → address."""
    with session_scope(engine, write=False) as session:
        query = select(Person).where(col(Person.active))
        if ids:
            query = query.where(col(Person.id).in_(list(ids)))
        people = session.exec(query).all()
        return {p.id: a for p in people if (a := address_of(p)) is not None}


def _target(
    session: Session, message: OutboxMessage, editable: bool, via: str
) -> tuple[How, str | None]:
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


async def send_one(
    item: Leased,
    address: str,
    send: Send,
    edit: Edit | None,
    find_sent: FindSent | None,
) -> str | None:
    """Send (or edit) one message; its platform reference. A message sent `again` (its
    earlier lease ran out) is first looked for, where the transport can (`find_sent`)."""
    if item.how == "edit":
        assert edit is not None and item.target is not None
        await edit(address, item.target, item.reply)
        return item.target
    if item.again and find_sent is not None:
        found = await find_sent(address, item.id)
        if found is not None:
            log.info("outbox %s was sent before a stop; recorded, not sent again", item.id)
            return found
    return await send(address, item.reply, outbox_id=item.id)


def settle_edit(engine: Engine, message_id: int, *, wait: bool) -> None:
    """An edit that waits for its message (looked at again after EDIT_WAIT) or is dropped."""
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


def record_failure(
    engine: Engine,
    message_id: int,
    exc: Exception,
    *,
    counts: bool = True,
    reason: str | None = None,
    patient: bool = False,
) -> bool:
    """Back off; `counts=False` for a probe of a platform that could not be reached, which
    keeps its place in its person's order (`ORDER_PATIENCE`) however long the outage;
    `patient` for a message nobody could send (a refused token), which waits the longest
    back-off, unless it is the probe that finds out when sending works again. True when the
    message has failed long enough to tell someone (`verdicts.lasting`)."""
    with session_scope(engine) as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return False
        message.attempts += 1 if counts else 0
        # the type only: an exception's text may quote the message, and so personal data
        message.last_error = (reason or type(exc).__name__)[:300]
        wait = max(backoff(message.attempts), retry_after(exc) or timedelta(0))
        if patient:  # nothing gets through (a refused token): the probe tells when it does
            wait = MAX_BACKOFF
        message.not_before = clock.now() + wait
        message.leased_until = None
        session.add(message)
        return counts and verdicts.lasting(message.attempts, message.created_at)
