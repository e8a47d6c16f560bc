"""Telling people about a case: the case card to whoever must pick it up, short notes to the
school, the coordinators and the doorstroompunt, and cards already shown brought up to date.

Every message goes through the outbox (recorded before it is sent) with a dedupe key made of
its kind, the case reference, the case's version and the receiver, so a retried task or a
repeated press never queues the same message twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session, col, select

from bot.core.cases.cards import DETAILS, TRANSFER, case_card
from bot.core.cases.permissions import (
    in_scope,
)
from bot.core.context import Ctx
from bot.core.i18n import N_
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.core.vocab import LABELS, CaseState, Destination, Role
from bot.store import queries
from bot.store.models import Case, OutboxMessage, Person


def report_to_doorstroompunt(ctx: Ctx, case: Case) -> None:
    for person in queries.people_with_role(ctx.session, role=Role.doorstroompunt):
        if person.municipality_code in (None, case.home_municipality_code):
            tell(
                ctx,
                person,
                case,
                "doorstroompunt",
                N_("Case {ref} ends without a structural place ({reason}); it is reported to you."),
                reason=ctx.translator_for(person)(
                    N_("contact with the young person is lost")
                    if case.state == CaseState.lost
                    else LABELS[Destination.none]
                ),
            )


# --- telling people --------------------------------------------------------------------------

# The kinds of outbox message that show a case card (with its buttons).
CARD_KINDS = ("due", "reminder", "handed")


def refresh_cards(
    ctx: Ctx, case: Case, note: str = "", *, own_note: str = "", **params: Any
) -> None:
    """Every case card of `case` sent or queued so far shows the case as it is now.

    Whoever may still see the case gets the card as they would see it now (without the Claim
    button once it is claimed, without the name once consent is withdrawn), under `note`
    (a msgid; `own_note` instead on the cards of the person who made the change); whoever may
    no longer see it gets only the note.
    """
    for message in outbox.shown_of(ctx.session, case_ref=case.ref, kinds=CARD_KINDS):
        person = queries.person_by_id(ctx.session, person_id=message.person_id)
        if person is None:
            continue
        t = ctx.translator_for(person)
        said = own_note if own_note and person.id == ctx.actor.id else note
        intro = t(said, ref=case.ref, **params) if said else ""
        if in_scope(ctx.session, person, case):
            card = _card(ctx, case, viewer=person)
            reply = card.model_copy(update={"text": (intro + "\n" + card.text).strip()})
        else:
            reply = Reply(
                title=t("Case {ref}", ref=case.ref),
                text=intro or t("Case {ref} is no longer in your view.", ref=case.ref),
            )
        outbox.replace(ctx.session, message, reply, once=str(case.version))


def kept_by_outbox(session: Session, *, via: str, platform_ref: str) -> bool:
    """Whether the message `platform_ref` (sent on transport `via`) is a case card that
    `refresh_cards` keeps up to date, so that a transport need not edit it itself."""
    found = session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.platform_ref == platform_ref,
            OutboxMessage.sent_via == via,
            col(OutboxMessage.kind).in_(CARD_KINDS),
            col(OutboxMessage.replaces_id).is_(None),
        )
    ).first()
    return found is not None


def pickers(
    ctx: Ctx, case: Case, *, brokers_of: Callable[[str], Sequence[Person]] | None = None
) -> list[Person]:
    """Who must pick up a due case: the person it was transferred to, or the brokers there;
    for a young person living outside the region, the coordinators (to hand it over to that
    region: no broker of this region gets it)."""
    if case.assigned_person_id:
        person = queries.person_by_id(ctx.session, person_id=case.assigned_person_id)
        return [person] if person else []
    if outside_region(ctx, case):
        return list(queries.people_with_role(ctx.session, role=Role.coordinator))
    if brokers_of is not None:
        brokers = list(brokers_of(case.responsible_municipality_code))
    else:
        brokers = list(
            queries.brokers_of(ctx.session, municipality_code=case.responsible_municipality_code)
        )
    # a municipality of the region without a broker (yet): the coordinator routes it by hand
    return brokers or list(queries.people_with_role(ctx.session, role=Role.coordinator))


def outside_region(ctx: Ctx, case: Case) -> bool:
    """Whether the case is with a municipality outside the region (the young person lives
    elsewhere in the Netherlands), and so with the coordinator to hand over."""
    return not queries.in_region(ctx.session, code=case.responsible_municipality_code)


def without_broker(ctx: Ctx, case: Case) -> bool:
    """Whether the case waits for the coordinator because nobody can claim it: it is not
    transferred to a person, and its municipality is outside the region or has no broker."""
    if case.assigned_person_id is not None:
        return False
    code = case.responsible_municipality_code
    return not queries.in_region(ctx.session, code=code) or not queries.brokers_of(
        ctx.session, municipality_code=code
    )


def routing_warning(ctx: Ctx, code: str) -> str:
    """What to tell whoever enters a leaver living in municipality `code` when no broker of
    the region will get the case (in the actor's language); "" when one will."""
    name = queries.municipality_name(ctx.session, code=code)
    if not queries.in_region(ctx.session, code=code):
        return ctx.t(
            "{municipality} is outside the region: the case goes to the coordinator, who hands "
            "it over to that region.",
            municipality=name,
        )
    if not queries.brokers_of(ctx.session, municipality_code=code):
        return ctx.t(
            "{municipality} has no broker yet: the case goes to the coordinator.",
            municipality=name,
        )
    return ""


def routing_note(ctx: Ctx, case: Case) -> str:
    """Where a due case is now, for whoever moved it there (in the actor's language)."""
    if case.assigned_person_id is None:
        warning = routing_warning(ctx, case.responsible_municipality_code)
        if warning:
            return warning
    if case.assigned_person_id is not None:
        person = queries.person_by_id(ctx.session, person_id=case.assigned_person_id)
        return ctx.t("It waits for {name}.", name=person.name if person else "-")
    where = queries.municipality_name(ctx.session, code=case.responsible_municipality_code)
    return ctx.t("The brokers of {municipality} are asked to take it over.", municipality=where)


def tell_coordinators(
    ctx: Ctx,
    case: Case,
    kind: str,
    message: str,
    *,
    dedupe: str,
    details: bool = False,
    **params: Any,
) -> None:
    """A message (msgid `message`) to every coordinator, each in their own language."""
    for coordinator in queries.people_with_role(ctx.session, role=Role.coordinator):
        t = ctx.translator_for(coordinator)
        buttons = [Button(label=t(DETAILS), action=f"details:{case.ref}")] if details else []
        if details and case.state == CaseState.due:
            buttons.append(Button(label=t(TRANSFER), action=f"transfer:{case.ref}"))
        outbox.enqueue(
            ctx.session,
            person_id=coordinator.id,
            kind=kind,
            reply=Reply(text=t(message, ref=case.ref, **params), buttons=buttons),
            case_ref=case.ref,
            once=dedupe,
        )


def notify_due(
    ctx: Ctx, case: Case, *, reason: str = "", transferred_by: Person | None = None
) -> None:
    """The case card to whoever must pick the case up; a note to the school's own broker."""
    outbox.enqueue_all(
        ctx.session, due_messages(ctx, case, reason=reason, transferred_by=transferred_by)
    )


def due_messages(
    ctx: Ctx,
    case: Case,
    *,
    reason: str = "",
    transferred_by: Person | None = None,
    known: queries.Remembered | None = None,
    events: list[dict[str, Any]] | None = None,
) -> list[outbox.Message]:
    """What `notify_due` records (for recording many cases' at once; `known` then
    remembers each municipality's brokers and each school's contacts, and the cards' audit
    events go to `events`, as rows)."""
    messages: list[outbox.Message] = []
    known = known or ctx.known
    look = known or queries.Lookups(ctx.session)
    receivers = pickers(ctx, case, brokers_of=look.brokers_of)
    elsewhere = case.assigned_person_id is None and not look.in_region(
        case.responsible_municipality_code
    )
    # no broker in the municipality: the coordinators got it instead, to transfer
    unrouted = (
        case.assigned_person_id is None
        and not elsewhere
        and not look.brokers_of(case.responsible_municipality_code)
    )
    for broker in receivers:
        t = ctx.translator_for(broker)
        card = _card(ctx, case, viewer=broker, known=known, events=events)
        if elsewhere:
            intro = t(
                "Case {ref}: the young person lives in {municipality}, outside the region. "
                "Hand it over to that region: /transfer {ref} outside followed by who there "
                "takes it over.",
                ref=case.ref,
                municipality=look.municipality_name(case.responsible_municipality_code),
            )
            if case.urgent:
                intro = t("Urgent: an early leaver.") + " " + intro
        elif unrouted:
            intro = t(
                "Case {ref} has nobody to claim it: {municipality} has no broker yet. Transfer "
                "it to a broker: /transfer {ref} MUNICIPALITY-or-@person.",
                ref=case.ref,
                municipality=look.municipality_name(case.responsible_municipality_code),
            )
            if case.urgent:
                intro = t("Urgent: an early leaver.") + " " + intro
        elif transferred_by is not None:
            intro = t(
                "{name} transferred case {ref} to you.", name=transferred_by.name, ref=case.ref
            )
            if reason:
                intro += " " + t("Reason: {reason}", reason=reason)
        elif case.urgent:
            intro = t("Urgent: an early leaver needs a broker now.")
        else:
            intro = t("A handover is due for a young person of your municipality.")
        messages.append(
            outbox.Message(
                person_id=broker.id,
                kind="due",
                reply=card.model_copy(update={"text": (intro + "\n" + card.text).strip()}),
                case_ref=case.ref,
                once=str(case.version),
            )
        )
    school = look.school(case.school_id)
    if elsewhere or unrouted:
        return messages  # no broker of the region gets it, nor a note about it
    if school and school.municipality_code != case.responsible_municipality_code:
        for broker in look.brokers_of(school.municipality_code):
            if broker in receivers:
                continue
            messages.append(
                told(
                    ctx,
                    broker,
                    case,
                    "informed",
                    N_(
                        "For your information: case {ref} of {school}, a school in your "
                        "municipality, is due with the brokers of {municipality}."
                    ),
                    school=school.name,
                    municipality=look.municipality_name(case.responsible_municipality_code),
                )
            )
    return messages


def _card(
    ctx: Ctx,
    case: Case,
    viewer: Person | None = None,
    known: queries.Remembered | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Reply:
    viewer = viewer or ctx.actor
    return case_card(
        ctx.session,
        case,
        viewer=viewer,
        t=ctx.translator_for(viewer),
        private=True,
        transport=ctx.transport,
        audit_action="sent_personal",
        known=known,
        events=events,
    )


def tell(ctx: Ctx, person: Person, case: Case, kind: str, message: str, **params: Any) -> None:
    """A short message (msgid `message`) about `case` to `person`, in their language."""
    outbox.enqueue_all(ctx.session, [told(ctx, person, case, kind, message, **params)])


def told(
    ctx: Ctx, person: Person, case: Case, kind: str, message: str, **params: Any
) -> outbox.Message:
    """What `tell` records."""
    t = ctx.translator_for(person)
    return outbox.Message(
        person_id=person.id,
        kind=kind,
        reply=Reply(
            text=t(message, ref=case.ref, student=case.student_ref, **params), personal=True
        ),
        case_ref=case.ref,
        once=str(case.version),
    )


def school_side(session: Session, case: Case) -> list[Person]:
    """Who at the school hears about the case: its registrant, or the school's contacts."""
    registrant = queries.person_by_id(session, person_id=case.registered_by)
    if (
        registrant
        and registrant.active
        and Role.school_contact in registrant.roles
        and registrant.school_id == case.school_id
    ):
        return [registrant]
    return list(queries.school_contacts_of(session, school_id=case.school_id))


def municipality_of(session: Session, person: Person) -> str:
    if person.municipality_code is None:
        return "-"
    return queries.municipality_name(session, code=person.municipality_code)
