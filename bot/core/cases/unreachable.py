"""Someone the chat cannot reach: the coordinator is told by name, and a case waiting for them
goes to someone who can act on it.

When a transport finds a person unreachable for good (`messaging.verdicts`), they are marked,
every message waiting for them is held (kept, not tried: it goes out when the mark goes), the
case cards among them go to the other brokers of the case's municipality, or to the
coordinators when there are none, and the coordinators are told at once, by name. A message
recorded for them later, while nobody reaches them, is held and sent on the same way
(`hold`). A message that keeps failing for a passing reason is told to the coordinators once
(`lasting_failure`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core import clock
from bot.core.cases.cards import case_card
from bot.core.context import Ctx
from bot.core.i18n import N_
from bot.core.messaging import outbox, verdicts
from bot.core.messaging.notify import CARD_KINDS
from bot.core.replies import Reply
from bot.core.vocab import CaseState, Role
from bot.store import queries
from bot.store.models import OutboxMessage, Person

# A held message waits this far ahead (until the mark goes: `release`)
HELD_FOR = timedelta(days=365 * 50)
HELD = "unreachable"  # its last_error while held

PLATFORMS = {"slack": "Slack", "telegram": "Telegram", "teams": "Microsoft Teams"}

UNREACHABLE_NOTE = N_(
    "{name} cannot be reached on {platform} ({reason}). Their messages wait until they write "
    "again or you change them with /admin change {id}."
)
SENT_ON_NOTE = N_("Cases sent on to others meanwhile: {refs}.")
INSTEAD_NOTE = N_("{name} cannot be reached on {platform}, so case {ref} comes to you.")
LASTING_NOTE = N_(
    "A message for {name} has not gone out on {platform} since {since} ({reason}); it is "
    "tried again."
)


def person_unreachable(ctx: Ctx, *, person_id: str, via: str, reason: str) -> bool:
    """Mark the person unreachable on `via`, hold what waits for them and send their cases
    on, and tell the coordinators. False when they were marked already (nothing is done)."""
    person = ctx.session.get(Person, person_id)
    if person is None or not verdicts.mark(person, via, reason):
        return False
    ctx.session.add(person)
    refs = hold(ctx, person)
    for coordinator in _reachable(queries.people_with_role(ctx.session, role=Role.coordinator)):
        if coordinator.id == person.id:
            continue
        t = ctx.translator_for(coordinator)
        text = t(
            UNREACHABLE_NOTE,
            name=person.name,
            platform=PLATFORMS.get(via, via),
            reason=reason,
            id=person.id,
        )
        if refs:
            text += "\n" + t(SENT_ON_NOTE, refs=", ".join(refs))
        outbox.enqueue(
            ctx.session,
            person_id=coordinator.id,
            kind="unreachable",
            reply=Reply(text=text),
            once=f"{person.id}:{via}:{clock.now().date().isoformat()}",
        )
    return True


def hold(ctx: Ctx, person: Person) -> list[str]:
    """Hold every message waiting for `person` (nobody reaches them) and send the case
    cards among them on; the references of the cases sent on."""
    waiting = ctx.session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.person_id == person.id,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.dropped_at).is_(None),
        )
        .order_by(col(OutboxMessage.id))
    ).all()
    refs: list[str] = []
    for message in waiting:
        message.not_before = clock.now() + HELD_FOR
        message.leased_until = None
        message.last_error = HELD
        ctx.session.add(message)
        card = message.kind in CARD_KINDS and message.replaces_id is None
        if card and message.case_ref and _send_on(ctx, person, message):
            refs.extend([] if message.case_ref in refs else [message.case_ref])
    return refs


def _send_on(ctx: Ctx, person: Person, message: OutboxMessage) -> bool:
    """The card of a due case that waited for `person`, to the other brokers of its
    municipality, or to the coordinators when there are none."""
    assert message.case_ref is not None
    case = queries.case_by_ref(ctx.session, ref=message.case_ref)
    if case is None or case.state != CaseState.due:
        return False
    others = _reachable(
        queries.brokers_of(ctx.session, municipality_code=case.responsible_municipality_code),
        besides=person.id,
    ) or _reachable(queries.people_with_role(ctx.session, role=Role.coordinator), person.id)
    for other in others:
        t = ctx.translator_for(other)
        card = case_card(
            ctx.session,
            case,
            viewer=other,
            t=t,
            private=True,
            transport=ctx.transport,
            audit_action="sent_personal",
        )
        intro = t(INSTEAD_NOTE, name=person.name, platform=_platform_of(person), ref=case.ref)
        outbox.enqueue(
            ctx.session,
            person_id=other.id,
            kind="due",
            reply=card.model_copy(update={"text": (intro + "\n" + card.text).strip()}),
            case_ref=case.ref,
            once=f"instead:{message.id}",
        )
    return bool(others)


def release(session: Session, person: Person) -> None:
    """The mark went: what was held for `person` is due now."""
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.person_id) == person.id,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.last_error) == HELD,
        )
        .values(not_before=clock.now(), last_error=None)
    )


def lasting_failure(ctx: Ctx, *, message_id: int, via: str) -> None:
    """Tell the coordinators, once, that a message keeps failing for a passing reason."""
    message = ctx.session.get(OutboxMessage, message_id)
    if message is None or message.sent_at is not None:
        return
    person = ctx.session.get(Person, message.person_id)
    if person is None:
        return
    for coordinator in _reachable(queries.people_with_role(ctx.session, role=Role.coordinator)):
        if coordinator.id == person.id:
            continue
        t = ctx.translator_for(coordinator)
        outbox.enqueue(
            ctx.session,
            person_id=coordinator.id,
            kind="lasting",
            reply=Reply(
                text=t(
                    LASTING_NOTE,
                    name=person.name,
                    platform=PLATFORMS.get(via, via),
                    since=message.created_at.strftime("%d-%m %H:%M"),
                    reason=message.last_error or "?",
                )
            ),
            once=f"lasting:{message_id}",
        )


def _reachable(people: Sequence[Person], besides: str | None = None) -> list[Person]:
    return [p for p in people if p.id != besides and not p.unreachable]


def _platform_of(person: Person) -> str:
    return ", ".join(PLATFORMS.get(v, v) for v in verdicts.unreachable_on(person)) or "?"
