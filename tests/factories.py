"""Scenario helpers: register leavers, act as people, read what the bot sent."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.core.conversation.fields import ParseEnv
from bot.core.intake.register import check_leaver, save_leaver
from bot.core.replies import Reply
from bot.store import queries
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Case, OutboxMessage

_counter = iter(range(1, 1_000_000))


def make_leaver(core: Core, *, school: str = "brug", by: str = "sara", **fields: Any) -> Case:
    """Register a leaver as school contact `by`. Defaults: Zwolle, pro, exit in 7 months."""
    raw: dict[str, str] = {
        "student_ref": f"S-{next(_counter)}",
        "home_municipality": "Zwolle",
        "programme": "pro",
        "expected_exit": "2027-06",
    }
    raw.update({k: str(v) for k, v in fields.items()})
    with session_scope(core.engine) as session:
        actor = queries.person_by_id(session, person_id=by)
        assert actor is not None
        ctx = core.ctx(session, actor, transport="test", private=True)
        checked = check_leaver(
            raw, ParseEnv(t=ctx.t, today=clock.today(core.region.tz), session=session)
        )
        assert checked.ok, checked.errors
        case, _ = save_leaver(ctx, school_id=school, values=checked.values)
        return case


def say(core: Core, person: str, text: str, *, private: bool = True) -> list[Reply]:
    return core.handle_text(person_id=person, text=text, transport="test", private=private)


def press(core: Core, person: str, action: str) -> list[Reply]:
    return core.handle_action(person_id=person, action=action, transport="test")


def one(replies: list[Reply]) -> Reply:
    assert len(replies) == 1, replies
    return replies[0]


def text_of(reply: Reply) -> str:
    parts = [reply.title or "", reply.text]
    parts += [f"{i.label}: {i.value}" for i in reply.fields]
    parts += reply.lines
    parts += [b.label for b in reply.buttons]
    return "\n".join(parts)


def case(core: Core, ref: str) -> Case:
    with session_scope(core.engine) as session:
        found = queries.case_by_ref(session, ref=ref)
        assert found is not None
        return found


def inbox(core: Core, person: str, *, kind: str | None = None) -> list[OutboxMessage]:
    """What the bot recorded to send to `person` (sent or not)."""
    with session_scope(core.engine) as session:
        stmt = select(OutboxMessage).where(OutboxMessage.person_id == person)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list(session.exec(stmt.order_by(OutboxMessage.id)).all())


def trail(core: Core, ref: str) -> list[AuditEvent]:
    with session_scope(core.engine) as session:
        return list(
            session.exec(
                select(AuditEvent).where(AuditEvent.case_ref == ref).order_by(AuditEvent.id)
            ).all()
        )
