"""Privacy: export everything about a case, erase its personal data, and the retention job.

Erasing keeps the case, its figures and the pseudonymous audit trail; it blanks the name,
contact details and notes, and redacts what the outbox kept of messages about the case.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, update
from sqlmodel import Session, col, select

from bot.core import audit, clock
from bot.core.cases import notify
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.vocab import CaseState
from bot.store import queries
from bot.store.models import PERSONAL_CASE_FIELDS, Case, OutboxMessage


def export_case(ctx: Ctx, ref: str) -> dict[str, Any]:
    """Everything stored about one case, for a subject access request."""
    case = find_case(ctx, ref)
    audit.record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="export",
        case_ref=case.ref,
    )
    data = case.model_dump(mode="json", exclude={"id"})
    data["audit_trail"] = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor_id,
            "transport": e.transport,
            "action": e.action,
            "detail": e.detail,
        }
        for e in audit.trail(ctx.session, case_ref=case.ref)
    ]
    data["messages"] = [
        {
            "to": m.person_id,
            "kind": m.kind,
            "created_at": m.created_at.isoformat(),
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            "dropped_at": m.dropped_at.isoformat() if m.dropped_at else None,
            "content": m.payload or None,  # None: blanked when the details were erased
        }
        for m in ctx.session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.case_ref == case.ref)
            .order_by(col(OutboxMessage.id))
        ).all()
    ]
    return data


def erase_case(ctx: Ctx, ref: str) -> Case:
    case = find_case(ctx, ref)
    erase_personal(ctx, case)
    return case


def erase_personal(ctx: Ctx, case: Case) -> None:
    """Blank the case's personal data and every stored copy of it: messages not sent yet are
    dropped, sent ones blanked, and case cards shown on a platform that can edit them are
    edited to show the case without its details."""
    for name in PERSONAL_CASE_FIELDS:
        setattr(case, name, None)
    case.closed_reason = None  # free text typed by people: it may name the young person
    case.handed_over_to = None  # so may the note of who took over in another region
    case.personal_data_erased_at = clock.now()
    case.version += 1  # a change like any other: tasks and edits keyed by version see it
    ctx.session.add(case)
    ctx.session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.case_ref) == case.ref,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.dropped_at).is_(None),
        )
        .values(payload={}, dropped_at=clock.now(), leased_until=None, last_error=None)
    )
    blank_sent_messages(ctx.session, case_ref=case.ref)
    ctx.session.flush()
    notify.refresh_cards(ctx, case, N_("The personal details of case {ref} were erased."))
    audit.record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="erase_personal",
        case_ref=case.ref,
    )


def blank_sent_messages(session: Session, *, case_ref: str) -> None:
    """What the outbox kept of messages about a case that were sent: blanked, since it may
    hold the young person's details (a case card with their name)."""
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.case_ref) == case_ref,
            col(OutboxMessage.sent_at).is_not(None),
        )
        .values(payload={}, last_error=None)
    )


def due_for_erasure(retention_months: int) -> ColumnElement[bool]:
    """Cases closed or withdrawn longer ago than the retention period, not erased yet."""
    cutoff = clock.now() - timedelta(days=round(retention_months * 365.25 / 12))
    return and_(
        col(Case.state).in_([CaseState.closed, CaseState.withdrawn]),
        col(Case.updated_at) < cutoff,
        col(Case.personal_data_erased_at).is_(None),
    )


def run_retention(ctx: Ctx) -> int:
    """Erase personal data of cases closed or withdrawn longer ago than the retention period."""
    stale = ctx.session.exec(
        select(Case).where(due_for_erasure(ctx.region.schedule.retention_months))
    ).all()
    for case in stale:
        erase_personal(ctx, case)
    return len(stale)


def find_case(ctx: Ctx, ref: str) -> Case:
    case = queries.case_by_ref(ctx.session, ref=ref.strip().upper())
    if case is None:
        raise Refused(ctx.t("There is no case {ref}.", ref=ref.strip().upper()))
    return case
