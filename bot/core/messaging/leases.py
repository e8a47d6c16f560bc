"""Which messages a sender takes: leases, person by person, in the order they were recorded.

A sender leases a person's due messages for `LEASE`; while it holds them no other sender
takes any message of that person (on PostgreSQL the person's row is locked, FOR NO KEY UPDATE
SKIP LOCKED, while their messages are leased; SQLite's writers are serialised already). A
message that failed and waits to be tried again holds back its person's later ones, for up to
`ORDER_PATIENCE` attempts. See `delivery` for the sending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.core import clock
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person

LEASE = timedelta(minutes=2)
# A message that failed holds back its person's later ones for this many attempts (about
# eight minutes of back-off), then they go ahead of it rather than wait for ever.
ORDER_PATIENCE = 8


def lease_pending(
    session: Session,
    *,
    person_ids: Sequence[str] | None,
    limit: int,
    leased_before: set[int] | None = None,
    of_people: int | None = None,
) -> list[OutboxMessage]:
    """Lease up to `limit` due, unsent messages (for `person_ids`, or anyone when None) of up
    to `of_people` people (`limit` when None), in the order they were recorded, of people no
    other sender holds: a person whose messages
    another instance leased is left to it, so one person's messages go out one at a time, in
    order. The ids whose earlier lease ran out (whoever held it stopped half-way, perhaps
    after sending) are added to `leased_before`."""
    now = clock.now()
    people = _longest_waiting(
        session, _due(now, person_ids), limit=limit if of_people is None else of_people
    )
    if people and session.get_bind().dialect.name == "postgresql":
        # One instance at a time leases a person's messages: the others skip the person.
        # (SQLite's writers are serialised by BEGIN IMMEDIATE already.)
        people = list(
            session.exec(
                select(col(Person.id))
                .where(col(Person.id).in_(people))
                .with_for_update(skip_locked=True, key_share=True)
            ).all()
        )
    if not people:
        return []
    # asked again under the lock: a lease another instance committed meanwhile counts now
    rows = session.exec(
        select(col(OutboxMessage.id), col(OutboxMessage.leased_until))
        .where(*_due(now, people))
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    ).all()
    ids = [i for i, _ in rows if i is not None]
    if leased_before is not None:
        leased_before.update(i for i, before in rows if i is not None and before is not None)
    if not ids:
        return []
    session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(leased_until=now + LEASE)
    )
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.id).in_(ids))
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def waiting(
    engine: Engine, *, besides: Sequence[str] = (), of: Sequence[str] | None = None
) -> list[str]:
    """The people (of those `of`, when given) with messages due now that no sender holds
    (but those `besides`), the longest waiting first; a read, which never waits for a
    writer. A sender asks this before it reads anyone's address or takes the write lock:
    most of the time nobody waits."""
    with session_scope(engine, write=False) as session:
        due = _due(clock.now(), of)
        if besides:
            due.append(col(OutboxMessage.person_id).not_in(list(besides)))
        return _longest_waiting(session, due)


def _longest_waiting(
    session: Session, due: list[ColumnElement[bool]], *, limit: int | None = None
) -> list[str]:
    """The people with messages that are `due`, whose oldest such message is oldest first."""
    first = func.min(col(OutboxMessage.id))
    query = (
        select(col(OutboxMessage.person_id), first)
        .where(*due)
        .group_by(col(OutboxMessage.person_id))
        .order_by(first)
    )
    if limit is not None:
        query = query.limit(limit)
    return [p for p, _ in session.exec(query).all()]


def _due(now: datetime, person_ids: Sequence[str] | None) -> list[ColumnElement[bool]]:
    """Unsent and due, of a person no sender holds, and not behind an earlier message of
    theirs that failed and waits to be tried again."""
    other = aliased(OutboxMessage)
    waiting = [col(other.sent_at).is_(None), col(other.dropped_at).is_(None)]
    same_person = col(other.person_id) == col(OutboxMessage.person_id)
    held = exists().where(same_person, *waiting, col(other.leased_until) >= now)
    behind = exists().where(
        same_person,
        *waiting,
        col(other.id) < col(OutboxMessage.id),
        col(other.not_before) > now,
        col(other.attempts).between(1, ORDER_PATIENCE - 1),
    )
    due: list[ColumnElement[bool]] = [
        col(OutboxMessage.sent_at).is_(None),
        col(OutboxMessage.dropped_at).is_(None),
        col(OutboxMessage.not_before) <= now,
        ~held,
        ~behind,
    ]
    if person_ids is not None:
        due.append(col(OutboxMessage.person_id).in_(list(person_ids)))
    return due


def due_now(engine: Engine, message_ids: list[int]) -> list[int]:
    """Make these messages due now, if they are still unsent; those that are."""
    with session_scope(engine) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id).in_(message_ids),
                col(OutboxMessage.sent_at).is_(None),
                col(OutboxMessage.dropped_at).is_(None),
            )
            .values(not_before=clock.now())
            .returning(col(OutboxMessage.id))
        )
        return [int(i) for i in result.scalars()]


def release(engine: Engine, message_ids: list[int]) -> None:
    """Give back leases this process will not use now: it is stopping, or the messages wait
    behind one of their person's that failed."""
    with session_scope(engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(message_ids), col(OutboxMessage.sent_at).is_(None))
            .values(leased_until=None)
        )
