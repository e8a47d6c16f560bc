"""The outbox: every message that matters is recorded before it is sent.

A transport takes pending messages for the people it can reach, sends them, and marks them
sent only after the platform confirmed. A message whose dedupe key is already recorded is not
recorded again, so the same ping cannot be queued twice.

A message that was shown can be changed afterwards (`replace`): one still waiting is changed
in place; one already sent gets an edit (`replaces_id`), which a transport that can edit its
messages applies to the message it sent (`platform_ref`), so a case card that someone claimed
no longer offers its Claim button. A message that must never go out any more (its case's
personal data was erased) is dropped (`dropped_at`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core import clock
from bot.core.replies import Reply
from bot.store.models import OutboxMessage
from bot.store.rows import column_defaults, insert_many_once, insert_once

DEDUPE_KEY_MAX = 120  # the column's length


@dataclass(frozen=True)
class Message:
    """A message to record (`enqueue_all`), as `enqueue`'s arguments describe it."""

    person_id: str
    kind: str
    reply: Reply
    case_ref: str | None = None
    once: str | None = None


def enqueue_all(session: Session, messages: Sequence[Message]) -> None:
    """Record many messages in one statement; one recorded before (same dedupe key) is not
    recorded again."""
    now = clock.now()
    base = column_defaults(OutboxMessage)
    rows: list[dict[str, Any]] = [
        {
            **base,
            "person_id": m.person_id,
            "kind": m.kind,
            "case_ref": m.case_ref,
            "payload": m.reply.model_dump(mode="json"),
            "dedupe_key": None
            if m.once is None
            else dedupe_key(m.kind, m.case_ref, m.once, m.person_id),
            "created_at": now,
            "not_before": now,
        }
        for m in messages
    ]
    insert_many_once(session, OutboxMessage, rows, unique=["dedupe_key"])


def enqueue(
    session: Session,
    *,
    person_id: str,
    kind: str,
    reply: Reply,
    case_ref: str | None = None,
    once: str | None = None,
    not_before: datetime | None = None,
    replaces_id: int | None = None,
) -> bool:
    """Record a message for `person_id`. False when it was recorded before.

    `once` names what makes this message unique besides its kind, its case and its receiver
    (the case's version, the round's date, the week …): the same message with the same
    `once` is recorded once, however often a task runs or a button is pressed, on however
    many instances. Without `once` every call records a message.
    """
    now = clock.now()
    message = OutboxMessage(
        person_id=person_id,
        kind=kind,
        case_ref=case_ref,
        payload=json.loads(reply.model_dump_json()),
        dedupe_key=None if once is None else dedupe_key(kind, case_ref, once, person_id),
        created_at=now,
        not_before=not_before or now,
        replaces_id=replaces_id,
    )
    return insert_once(session, message, unique=["dedupe_key"]) is not None


def dedupe_key(kind: str, case_ref: str | None, once: str, person_id: str) -> str:
    """kind:case:once:person, or a digest of it when that would not fit the column."""
    key = f"{kind}:{case_ref or '-'}:{once}:{person_id}"
    if len(key) <= DEDUPE_KEY_MAX:
        return key
    return f"{kind}:{hashlib.sha256(key.encode()).hexdigest()}"[:DEDUPE_KEY_MAX]


def pending_for(session: Session, *, person_id: str) -> Sequence[OutboxMessage]:
    now = clock.now()
    return session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.person_id == person_id,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.dropped_at).is_(None),
            OutboxMessage.not_before <= now,
        )
        .order_by(col(OutboxMessage.id))
    ).all()


def mark_sent(
    session: Session, message: OutboxMessage, *, via: str, platform_ref: str | None = None
) -> None:
    message.sent_at = clock.now()
    message.sent_via = via
    message.platform_ref = platform_ref
    message.leased_until = None
    session.add(message)


def mark_sent_by_id(
    session: Session, message_id: int, *, via: str, platform_ref: str | None = None
) -> None:
    """`mark_sent` for a message known by its id, if it is still unsent: one UPDATE, not a
    read and a write (a delivery round records every message it sent this way)."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.sent_at).is_(None))
        .values(sent_at=clock.now(), sent_via=via, platform_ref=platform_ref, leased_until=None)
    )


def drop(session: Session, message: OutboxMessage) -> None:
    """Never send `message` (an edit of a message that cannot be edited, say)."""
    message.dropped_at = clock.now()
    message.leased_until = None
    session.add(message)


def shown_of(session: Session, *, case_ref: str, kinds: Sequence[str]) -> list[OutboxMessage]:
    """Messages of these kinds about a case that were sent or still wait: not edits, not
    dropped ones."""
    return list(
        session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.case_ref == case_ref,
                col(OutboxMessage.kind).in_(list(kinds)),
                col(OutboxMessage.replaces_id).is_(None),
                col(OutboxMessage.dropped_at).is_(None),
            )
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def replace(session: Session, original: OutboxMessage, reply: Reply, *, once: str) -> None:
    """Make `original` show `reply` instead of what it holds.

    Not sent yet: it is changed in place (and if a transport is sending it at this moment, an
    edit follows it). Sent where the platform can edit it: an edit is queued. Sent where it
    cannot be edited (the terminal): nothing to do; the person gets whatever note comes with
    the change as a message of its own.
    """
    in_flight = original.leased_until is not None and original.leased_until > clock.now()
    if original.sent_at is None:
        original.payload = json.loads(reply.model_dump_json())
        session.add(original)
        if not in_flight:
            return
    elif original.platform_ref is None:
        return
    enqueue(
        session,
        person_id=original.person_id,
        kind="edit",
        reply=reply,
        case_ref=original.case_ref,
        once=f"{original.id}:{once}",
        replaces_id=original.id,
    )


def reply_of(message: OutboxMessage) -> Reply:
    return Reply.model_validate_json(json.dumps(message.payload))
