"""The case and its life (product.md section 4): states, the transitions between them, and
who is told what when a case moves.

Every transition is checked against the table below; an illegal one is refused with a reason
in the actor's language. A transition is written as one conditional UPDATE on the case's
version, so two people acting on the same case at once cannot both succeed: exactly one broker
owns a claimed case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from bot.core import clock, tasks
from bot.core.calendar import at_local, working_days_later
from bot.core.cases import audit
from bot.core.cases.cards import DETAILS, TRANSFER, case_buttons, case_card
from bot.core.cases.permissions import (
    in_scope,
    may_act_as_owner,
    may_claim,
    may_transfer,
    may_withdraw,
)
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import N_, Translator
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.core.vocab import LABELS, OPEN_STATES, CaseState, Destination, label
from bot.store import queries
from bot.store.models import Case, Person

# Forecasts become due early in the morning of the day their handover window opens.
WINDOW_OPENS_AT = time(7, 0)
# Reasons people type (transfer, close, withdraw) are forwarded to others: kept short.
REASON_MAX = 500


def limit_text(t: Translator, text: str, limit: int) -> str:
    """`text` (already cleaned of control characters) if it is at most `limit` long."""
    text = text.strip()
    if len(text) > limit:
        raise Refused(
            t(
                "That is too long: at most {limit} characters, please (this was {n}).",
                limit=limit,
                n=len(text),
            )
        )
    return text


@dataclass(frozen=True)
class Transition:
    sources: frozenset[CaseState]
    target: CaseState
    what: str  # what the actor tried, for the refusal message


_S = CaseState
TRANSITIONS: dict[str, Transition] = {
    "make_due": Transition(frozenset({_S.forecast}), _S.due, N_("make it due")),
    "claim": Transition(frozenset({_S.due}), _S.claimed, N_("claim it")),
    "transfer": Transition(frozenset({_S.due, _S.claimed}), _S.due, N_("transfer it")),
    "place": Transition(frozenset({_S.claimed}), _S.placed, N_("record a placement")),
    "followup_ok_last": Transition(frozenset({_S.placed}), _S.closed, N_("close it")),
    "followup_changed": Transition(frozenset({_S.placed}), _S.placed, N_("record a new place")),
    "followup_dropped": Transition(frozenset({_S.placed}), _S.claimed, N_("reopen it")),
    "withdraw": Transition(OPEN_STATES, _S.withdrawn, N_("withdraw it")),
    "reopen": Transition(frozenset({_S.withdrawn}), _S.forecast, N_("reopen it")),
    "close_no_support": Transition(frozenset({_S.claimed}), _S.closed, N_("close it")),
    "lose_contact": Transition(frozenset({_S.claimed, _S.placed}), _S.lost, N_("mark it lost")),
}


def check(t: Translator, case: Case, name: str) -> Transition:
    tr = TRANSITIONS[name]
    if CaseState(case.state) not in tr.sources:
        if case.state == tr.target:
            raise Refused(
                t("Case {ref} is already {state}.", ref=case.ref, state=label(t, tr.target))
            )
        raise Refused(
            t(
                "Case {ref} is {state}; you can only {what} when it is {allowed}.",
                ref=case.ref,
                state=label(t, case.state),
                what=t(tr.what),
                allowed=one_of(t, [label(t, s) for s in CaseState if s in tr.sources]),
            )
        )
    return tr


def one_of(t: Translator, words: list[str]) -> str:
    """'due, claimed or placed', in the reader's language."""
    if len(words) < 2:
        return "".join(words)
    return t("{items} or {last}", items=", ".join(words[:-1]), last=words[-1])


def apply(ctx: Ctx, case: Case, name: str, **changes: Any) -> Case:
    """Move `case` along transition `name`, atomically, and record it in the audit trail."""
    tr = check(ctx.t, case, name)
    before = case.state
    update_case(
        ctx,
        case,
        name,
        {"state": tr.target.value, **changes},
        **{"from": before, "to": tr.target.value},
        **_pseudonymous(changes),
    )
    return case


def update_case(ctx: Ctx, case: Case, action: str, values: dict[str, Any], **detail: Any) -> Case:
    """Write `values` to `case` if nobody changed it since it was read (one conditional
    UPDATE on its version), and record `action` with `detail` in the audit trail."""
    result = ctx.session.execute(
        update(Case)
        .where(col(Case.id) == case.id, col(Case.version) == case.version)
        .values(**values, version=case.version + 1, updated_at=clock.now())
    )
    ctx.session.refresh(case)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Refused(_changed_meanwhile(ctx, case))
    audit.record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action=action,
        case_ref=case.ref,
        **detail,
    )
    return case


def _pseudonymous(changes: dict[str, Any]) -> dict[str, Any]:
    keep = {
        "owner_id",
        "responsible_municipality_code",
        "assigned_person_id",
        "destination",
        "urgent",
    }
    return {k: v for k, v in changes.items() if k in keep}


def _changed_meanwhile(ctx: Ctx, case: Case) -> str:
    t = ctx.t
    if case.state == CaseState.claimed and case.owner_id:
        owner = queries.person_by_id(ctx.session, person_id=case.owner_id)
        return t(
            "Case {ref} is already claimed by {name}.",
            ref=case.ref,
            name=owner.name if owner else case.owner_id,
        )
    return t(
        "Case {ref} was changed by someone else just now; it is {state} now.",
        ref=case.ref,
        state=label(t, case.state),
    )


# --- finding a case ------------------------------------------------------------------------


def get_in_scope(ctx: Ctx, ref: str) -> Case:
    """The case `ref` if the actor may see it. Unknown and out of scope read the same."""
    case = queries.case_by_ref(ctx.session, ref=ref.strip().upper())
    if case is None or not in_scope(ctx.session, ctx.actor, case):
        raise Refused(ctx.t("There is no case {ref} in your view.", ref=ref.strip().upper()))
    return case


# --- the transitions as people use them ----------------------------------------------------


def make_due(ctx: Ctx, case: Case) -> Case:
    """The handover window opened (or an early leaver was registered): ping the brokers."""
    apply(ctx, case, "make_due", due_at=clock.now(), urgent=case.urgent or case.early_leaver)
    notify_due(ctx, case)
    schedule_unclaimed_checks(ctx, case)
    return case


def schedule_unclaimed_checks(ctx: Ctx, case: Case) -> None:
    """A reminder and an escalation for as long as this due case stays unclaimed.

    The tasks carry the case's version: once anything happens to the case they do nothing.
    """
    schedule_nudges(
        ctx,
        case,
        ("remind_unclaimed", "escalate_unclaimed"),
        payload={"version": case.version},
        key=str(case.version),
    )


def schedule_nudges(
    ctx: Ctx, case: Case, kinds: tuple[str, str], *, payload: dict[str, Any], key: str
) -> None:
    """Two tasks: `kinds[0]` after remind_after_workdays, `kinds[1]` after escalate_after_workdays
    working days from now. Their handlers decide at run time whether there is still a reason."""
    rules = ctx.region.schedule
    now = clock.now()
    for kind, days in zip(
        kinds, (rules.remind_after_workdays, rules.escalate_after_workdays), strict=True
    ):
        tasks.schedule(
            ctx.session,
            kind=kind,
            due_at=working_days_later(now, days, ctx.region.tz),
            case_ref=case.ref,
            payload={**payload, "workdays": days},
            dedupe_key=f"{kind}:{case.ref}:{key}",
        )


def schedule_window(ctx: Ctx, case: Case, opens: date) -> None:
    """The task that makes a forecast due on the day its handover window opens."""
    tasks.schedule(
        ctx.session,
        kind="window_open",
        due_at=at_local(opens, WINDOW_OPENS_AT, ctx.region.tz),
        case_ref=case.ref,
        dedupe_key=f"window_open:{case.ref}:{opens.isoformat()}",
    )


def claim(ctx: Ctx, ref: str) -> Reply:
    case = get_in_scope(ctx, ref)
    t = ctx.t
    if case.state == CaseState.claimed and case.owner_id:
        raise Refused(_changed_meanwhile(ctx, case))
    if not may_claim(ctx.actor, case):
        where = queries.municipality_name(ctx.session, code=case.responsible_municipality_code)
        raise Refused(
            t(
                "Case {ref} is for the brokers of {municipality}; ask them or the coordinator "
                "to transfer it to you.",
                ref=case.ref,
                municipality=where,
            )
        )
    apply(ctx, case, "claim", owner_id=ctx.actor.id, assigned_person_id=None)
    refresh_cards(ctx, case, N_("{name} has taken case {ref}."), name=ctx.actor.name)
    for contact in _school_side(ctx.session, case):
        tell(
            ctx,
            contact,
            case,
            "claimed",
            N_("Case {ref} ({student}) was taken over by {name} ({municipality})."),
            name=ctx.actor.name,
            municipality=_municipality_of(ctx.session, ctx.actor),
        )
    return Reply(
        text=t("You now own case {ref}.", ref=case.ref),
        buttons=case_buttons(ctx.t, case, ctx.actor),
    )


def transfer(ctx: Ctx, ref: str, target: str, reason: str = "") -> Reply:
    """Hand a case to another municipality (its brokers) or to a named broker."""
    from bot.core.directory import find_person, match_municipality

    case = get_in_scope(ctx, ref)
    t = ctx.t
    if not may_transfer(ctx.actor, case):
        raise Refused(not_yours(ctx, case))
    check(t, case, "transfer")
    reason = limit_text(t, reason, REASON_MAX)
    person: Person | None = None
    target = target.strip()
    municipality, suggestions = match_municipality(ctx.session, target)
    if municipality is None:
        people = [p for p in find_person(ctx.session, target) if "broker" in p.roles]
        if len(people) == 1 and people[0].municipality_code:
            person = people[0]
        elif len(people) > 1:
            raise Refused(
                t(
                    "More than one broker matches {query}: {names}.",
                    query=target,
                    names=", ".join(f"{p.name} (@{p.id})" for p in people),
                )
            )
        else:
            hint = t(" Did you mean: {names}?", names=", ".join(suggestions)) if suggestions else ""
            raise Refused(
                t("{query} is neither a municipality of this region nor a broker.", query=target)
                + hint
            )
    if person is not None:
        if person.id == ctx.actor.id:
            raise Refused(t("You cannot transfer a case to yourself."))
        code = person.municipality_code or case.responsible_municipality_code
        assigned: str | None = person.id
    else:
        assert municipality is not None
        code, assigned = municipality.code, None
        if "broker" in ctx.actor.roles and ctx.actor.municipality_code == code:
            # the brokers of your own municipality include you: name a colleague instead
            raise Refused(
                t(
                    "You cannot transfer a case to yourself: {municipality} is your own "
                    "municipality. Name a colleague instead: /transfer {ref} @name.",
                    municipality=municipality.name,
                    ref=case.ref,
                )
            )
        if (
            case.state == CaseState.due
            and case.assigned_person_id is None
            and case.responsible_municipality_code == code
        ):
            raise Refused(
                t(
                    "Case {ref} is already with the brokers of {municipality}.",
                    ref=case.ref,
                    municipality=municipality.name,
                )
            )
        if not queries.brokers_of(ctx.session, municipality_code=code):
            raise Refused(
                t(
                    "{municipality} has no broker in the directory yet.",
                    municipality=municipality.name,
                )
            )
    previous_owner = queries.person_by_id(ctx.session, person_id=case.owner_id or "")
    apply(
        ctx,
        case,
        "transfer",
        owner_id=None,
        responsible_municipality_code=code,
        assigned_person_id=assigned,
        due_at=clock.now(),
    )
    receivers = [person] if person else queries.brokers_of(ctx.session, municipality_code=code)
    names = ", ".join(p.name for p in receivers)
    where = queries.municipality_name(ctx.session, code=code)
    refresh_cards(
        ctx,
        case,
        N_("Case {ref} was transferred to {municipality}: {names}."),
        municipality=where,
        names=names,
    )
    notify_due(ctx, case, reason=reason, transferred_by=ctx.actor)
    schedule_unclaimed_checks(ctx, case)
    if previous_owner is not None and previous_owner.id != ctx.actor.id:
        tell(
            ctx,
            previous_owner,
            case,
            "transferred_away",
            N_("{name} transferred your case {ref} ({student}) to {municipality}: {names}."),
            name=ctx.actor.name,
            municipality=where,
            names=names,
        )
    for contact in _school_side(ctx.session, case):
        tell(
            ctx,
            contact,
            case,
            "transferred",
            N_("Case {ref} ({student}) was transferred to {municipality}: {names}."),
            municipality=where,
            names=names,
        )
    return Reply(
        text=t(
            "Case {ref} is transferred to {municipality} ({names}).",
            ref=case.ref,
            municipality=where,
            names=names,
        )
    )


def not_yours(ctx: Ctx, case: Case) -> str:
    if case.owner_id and case.owner_id != ctx.actor.id:
        owner = queries.person_by_id(ctx.session, person_id=case.owner_id)
        return ctx.t(
            "Case {ref} belongs to {name}: only they or the coordinator can hand it over.",
            ref=case.ref,
            name=owner.name if owner else case.owner_id,
        )
    return ctx.t("You cannot transfer case {ref}: it is not yours to hand over.", ref=case.ref)


def record_placement(
    ctx: Ctx, case: Case, *, destination: Destination, organisation: str, start: date
) -> Case:
    if not may_act_as_owner(ctx.actor, case):
        raise Refused(ctx.t("Only the owner of case {ref} can record its placement.", ref=case.ref))
    apply(
        ctx,
        case,
        "place",
        destination=destination.value,
        placement_org=organisation or None,
        placement_start=start,
    )
    if destination == Destination.none:
        report_to_doorstroompunt(ctx, case)
    return case


def check_withdraw(ctx: Ctx, ref: str) -> Case:
    """Case `ref` if the actor may withdraw it now; Refused with the reason if not."""
    case = get_in_scope(ctx, ref)
    if not may_withdraw(ctx.actor, case):
        raise Refused(
            ctx.t("Only the school or the coordinator can withdraw case {ref}.", ref=case.ref)
        )
    check(ctx.t, case, "withdraw")
    return case


def withdraw(ctx: Ctx, ref: str, reason: str) -> Reply:
    """Withdraw a case (confirmed, with a reason: see bot/core/withdrawal.py). Its owner, the
    brokers who had its card and the school are told; the coordinator can reopen it."""
    case = check_withdraw(ctx, ref)
    reason = limit_text(ctx.t, reason, REASON_MAX)
    if not reason:
        raise Refused(ctx.t("Say why case {ref} is withdrawn.", ref=case.ref))
    told = {case.owner_id} | {
        m.person_id for m in outbox.shown_of(ctx.session, case_ref=case.ref, kinds=CARD_KINDS)
    }
    apply(ctx, case, "withdraw", closed_reason=reason)
    refresh_cards(ctx, case, N_("Case {ref} is withdrawn."))
    school_side = _school_side(ctx.session, case)
    for person_id in sorted(p for p in told if p and p != ctx.actor.id):
        person = queries.person_by_id(ctx.session, person_id=person_id)
        if person is not None and person not in school_side:
            _tell_withdrawn(ctx, person, case, reason)
    if ctx.actor not in school_side:
        for contact in school_side:
            _tell_withdrawn(ctx, contact, case, reason)
    return Reply(
        text=ctx.t(
            "Case {ref} is withdrawn. The coordinator can reopen it if this was a mistake.",
            ref=case.ref,
        )
    )


def _tell_withdrawn(ctx: Ctx, person: Person, case: Case, reason: str) -> None:
    tell(
        ctx,
        person,
        case,
        "withdrawn",
        N_("Case {ref} ({student}) was withdrawn by {name}. Reason: {reason}"),
        name=ctx.actor.name,
        reason=label(ctx.translator_for(person), reason),
    )


def reopen(ctx: Ctx, ref: str) -> Reply:
    """/reopen REF: the coordinator takes back a withdrawal, within the retention period."""
    case = get_in_scope(ctx, ref)
    check(ctx.t, case, "reopen")
    if case.personal_data_erased_at is not None:
        raise Refused(
            ctx.t(
                "Case {ref} cannot be reopened: its retention period has passed and its "
                "details are erased. Register the leaver again.",
                ref=case.ref,
            )
        )
    apply(ctx, case, "reopen", owner_id=None, assigned_person_id=None, closed_reason=None)
    for contact in _school_side(ctx.session, case):
        tell(
            ctx,
            contact,
            case,
            "reopened",
            N_("Case {ref} ({student}) is open again: the coordinator reopened it."),
        )
    due_if_window_open(ctx, case)
    return Reply(
        text=ctx.t(
            "Case {ref} is open again ({state}).", ref=case.ref, state=label(ctx.t, case.state)
        )
    )


def window_opens(expected_exit: date, weeks: int) -> date:
    return expected_exit - timedelta(weeks=weeks)


def due_if_window_open(ctx: Ctx, case: Case) -> None:
    """Due now (early leaver, or the window is open already), or a task for the day it opens."""
    if case.state != CaseState.forecast:
        return
    opens = window_opens(case.expected_exit, ctx.region.schedule.handover_window_weeks)
    if case.early_leaver or opens <= clock.today(ctx.region.tz):
        make_due(ctx, case)
    else:
        schedule_window(ctx, case, opens)


def close_no_support(ctx: Ctx, ref: str, reason: str) -> Reply:
    case = get_in_scope(ctx, ref)
    if not may_act_as_owner(ctx.actor, case):
        raise Refused(ctx.t("Only the owner of case {ref} can close it.", ref=case.ref))
    reason = limit_text(ctx.t, reason, REASON_MAX)
    if not reason:
        raise Refused(ctx.t("Say why no support is needed: /close {ref} REASON", ref=case.ref))
    apply(ctx, case, "close_no_support", closed_reason=reason)
    return Reply(text=ctx.t("Case {ref} is closed.", ref=case.ref))


def lose_contact(ctx: Ctx, ref: str) -> Reply:
    case = get_in_scope(ctx, ref)
    if not may_act_as_owner(ctx.actor, case):
        raise Refused(ctx.t("Only the owner of case {ref} can mark it lost.", ref=case.ref))
    apply(ctx, case, "lose_contact")
    tell_coordinators(
        ctx,
        case,
        "lost",
        N_("Case {ref}: contact with the young person is lost."),
        dedupe=str(case.version),
        details=True,
    )
    report_to_doorstroompunt(ctx, case)
    return Reply(text=ctx.t("Case {ref} is marked lost; the coordinator is told.", ref=case.ref))


def report_to_doorstroompunt(ctx: Ctx, case: Case) -> None:
    for person in queries.people_with_role(ctx.session, role="doorstroompunt"):
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
CARD_KINDS = ("due", "reminder")


def refresh_cards(ctx: Ctx, case: Case, note: str = "", **params: Any) -> None:
    """Every case card of `case` sent or queued so far shows the case as it is now.

    Whoever may still see the case gets the card as they would see it now (without the Claim
    button once it is claimed, without the name once consent is withdrawn), under `note`
    (a msgid); whoever may no longer see it gets only the note.
    """
    for message in outbox.shown_of(ctx.session, case_ref=case.ref, kinds=CARD_KINDS):
        person = queries.person_by_id(ctx.session, person_id=message.person_id)
        if person is None:
            continue
        t = ctx.translator_for(person)
        intro = t(note, ref=case.ref, **params) if note else ""
        if in_scope(ctx.session, person, case):
            card = _card(ctx, case, viewer=person)
            reply = card.model_copy(update={"text": (intro + "\n" + card.text).strip()})
        else:
            reply = Reply(
                title=t("Case {ref}", ref=case.ref),
                text=intro or t("Case {ref} is no longer in your view.", ref=case.ref),
            )
        outbox.replace(ctx.session, message, reply, dedupe_key=f"edit:{message.id}:{case.version}")


def pickers(ctx: Ctx, case: Case) -> list[Person]:
    """Who must pick up a due case: the person it was transferred to, or the brokers there."""
    if case.assigned_person_id:
        person = queries.person_by_id(ctx.session, person_id=case.assigned_person_id)
        return [person] if person else []
    return list(
        queries.brokers_of(ctx.session, municipality_code=case.responsible_municipality_code)
    )


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
    for coordinator in queries.people_with_role(ctx.session, role="coordinator"):
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
            dedupe_key=f"{kind}:{case.ref}:{dedupe}:{coordinator.id}",
        )


def notify_due(
    ctx: Ctx, case: Case, *, reason: str = "", transferred_by: Person | None = None
) -> None:
    """The case card to whoever must pick the case up; a note to the school's own broker."""
    receivers = pickers(ctx, case)
    for broker in receivers:
        t = ctx.translator_for(broker)
        card = _card(ctx, case, viewer=broker)
        if transferred_by is not None:
            intro = t(
                "{name} transferred case {ref} to you.", name=transferred_by.name, ref=case.ref
            )
            if reason:
                intro += " " + t("Reason: {reason}", reason=reason)
        elif case.urgent:
            intro = t("Urgent: an early leaver needs a broker now.")
        else:
            intro = t("A handover is due for a young person of your municipality.")
        outbox.enqueue(
            ctx.session,
            person_id=broker.id,
            kind="due",
            reply=card.model_copy(update={"text": (intro + "\n" + card.text).strip()}),
            case_ref=case.ref,
            dedupe_key=f"due:{case.ref}:{case.version}:{broker.id}",
        )
    school = queries.school_by_id(ctx.session, school_id=case.school_id)
    if school and school.municipality_code != case.responsible_municipality_code:
        for broker in queries.brokers_of(ctx.session, municipality_code=school.municipality_code):
            if broker in receivers:
                continue
            tell(
                ctx,
                broker,
                case,
                "informed",
                N_(
                    "For your information: case {ref} of {school}, a school in your "
                    "municipality, is due with the brokers of {municipality}."
                ),
                school=school.name,
                municipality=queries.municipality_name(
                    ctx.session, code=case.responsible_municipality_code
                ),
            )


def _card(ctx: Ctx, case: Case, viewer: Person | None = None) -> Reply:
    viewer = viewer or ctx.actor
    return case_card(
        ctx.session,
        case,
        viewer=viewer,
        t=ctx.translator_for(viewer),
        private=True,
        transport=ctx.transport,
        audit_action="sent_personal",
    )


def tell(ctx: Ctx, person: Person, case: Case, kind: str, message: str, **params: Any) -> None:
    """A short message (msgid `message`) about `case` to `person`, in their language."""
    t = ctx.translator_for(person)
    text = t(message, ref=case.ref, student=case.student_ref, **params)
    outbox.enqueue(
        ctx.session,
        person_id=person.id,
        kind=kind,
        reply=Reply(text=text, personal=True),
        case_ref=case.ref,
        dedupe_key=f"{kind}:{case.ref}:{case.version}:{person.id}",
    )


def _school_side(session: Session, case: Case) -> list[Person]:
    """Who at the school hears about the case: its registrant, or the school's contacts."""
    registrant = queries.person_by_id(session, person_id=case.registered_by)
    if (
        registrant
        and registrant.active
        and "school_contact" in registrant.roles
        and registrant.school_id == case.school_id
    ):
        return [registrant]
    return list(queries.school_contacts_of(session, school_id=case.school_id))


def _municipality_of(session: Session, person: Person) -> str:
    if person.municipality_code is None:
        return "-"
    return queries.municipality_name(session, code=person.municipality_code)
