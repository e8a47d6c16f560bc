"""The audit trail: every change and every view of personal details, pseudonymous.

An event names people by their directory id and cases by reference; `detail` never holds a
young person's name, contact details or notes.

A service of the core's first floor: every journey records into it (cases, the directory,
admin, the scan, invites, privacy), and it imports nothing of theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from bot.core import clock
from bot.store.models import AuditEvent


def record(
    session: Session,
    *,
    actor_id: str,
    transport: str,
    action: str,
    case_ref: str | None = None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        at=clock.now(),
        actor_id=actor_id,
        transport=transport,
        action=action,
        case_ref=case_ref,
        detail=detail,
    )
    session.add(event)
    return event


def row(
    *, actor_id: str, transport: str, action: str, case_ref: str | None = None, **detail: Any
) -> dict[str, Any]:
    """An event as the columns of its row, for writing many at once."""
    return {
        "at": clock.now(),
        "actor_id": actor_id,
        "transport": transport,
        "action": action,
        "case_ref": case_ref,
        "detail": detail,
    }


def trail(session: Session, *, case_ref: str) -> Sequence[AuditEvent]:
    return session.exec(
        select(AuditEvent).where(AuditEvent.case_ref == case_ref).order_by(col(AuditEvent.id))
    ).all()
