"""The outbox: every message that matters is recorded before it is sent.

A transport takes pending messages for the people it can reach, sends them, and marks them
sent only after the platform confirmed. A message whose dedupe key is already recorded is not
recorded again, so the same ping cannot be queued twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core import clock
from bot.core.replies import Reply
from bot.store.models import OutboxMessage


def enqueue(
    session: Session,
    *,
    person_id: str,
    kind: str,
    reply: Reply,
    case_ref: str | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Record a message for `person_id`. False when the dedupe key was already recorded."""
    now = clock.now()
    msg = OutboxMessage(
        person_id=person_id,
        kind=kind,
        case_ref=case_ref,
        payload=json.loads(reply.model_dump_json()),
        dedupe_key=dedupe_key,
        created_at=now,
        not_before=not_before or now,
    )
    try:
        with session.begin_nested():
            session.add(msg)
    except IntegrityError:  # another instance recorded the same key a moment ago
        return False
    return True


def pending_for(session: Session, *, person_id: str) -> Sequence[OutboxMessage]:
    now = clock.now()
    return session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.person_id == person_id,
            col(OutboxMessage.sent_at).is_(None),
            OutboxMessage.not_before <= now,
        )
        .order_by(col(OutboxMessage.id))
    ).all()


def mark_sent(session: Session, message: OutboxMessage, *, via: str) -> None:
    message.sent_at = clock.now()
    message.sent_via = via
    session.add(message)


def reply_of(message: OutboxMessage) -> Reply:
    return Reply.model_validate_json(json.dumps(message.payload))
