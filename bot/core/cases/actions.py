"""What people do to a case (product.md section 4): claim, transfer, withdraw and reopen,
close, lose contact, record a placement. Each checks who may, moves the case along its life
(`lifecycle.apply`) and tells whoever must know (`notify`)."""

from __future__ import annotations

from datetime import date

from bot.core import clock
from bot.core.cases import lifecycle, notify, reassign
from bot.core.cases.cards import OUTSIDE, case_buttons
from bot.core.cases.permissions import (
    may_act_as_owner,
    may_claim,
    may_transfer,
    may_withdraw,
)
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.core.vocab import CaseState, Destination, Role, label
from bot.store import queries
from bot.store.models import Case, Person


def claim(ctx: Ctx, ref: str) -> Reply:
    case = lifecycle.get_in_scope(ctx, ref)
    t = ctx.t
    if case.state == CaseState.claimed and case.owner_id:
        raise Refused(lifecycle.changed_meanwhile(ctx, case))
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
    lifecycle.apply(ctx, case, "claim", owner_id=ctx.actor.id, assigned_person_id=None)
    notify.refresh_cards(
        ctx,
        case,
        N_("{name} has taken case {ref}."),
        own_note=N_("You now own case {ref}."),
        name=ctx.actor.name,
    )
    for contact in notify.school_side(ctx.session, case):
        notify.tell(
            ctx,
            contact,
            case,
            "claimed",
            N_("Case {ref} ({student}) was taken over by {name} ({municipality})."),
            name=ctx.actor.name,
            municipality=notify.municipality_of(ctx.session, ctx.actor),
        )
    return Reply(
        text=t("You now own case {ref}.", ref=case.ref),
        buttons=case_buttons(ctx.t, case, ctx.actor),
    )


def transfer(ctx: Ctx, ref: str, target: str, reason: str = "") -> Reply:
    """Hand a case to another municipality (its brokers) or to a named broker."""
    from bot.core.directory import find_person, match_municipality

    case = lifecycle.get_in_scope(ctx, ref)
    t = ctx.t
    if not may_transfer(ctx.actor, case):
        raise Refused(not_yours(ctx, case))
    if case.state not in reassign.KEEPS_STATE:
        lifecycle.check(t, case, "transfer")
    reason = lifecycle.limit_text(t, reason, lifecycle.REASON_MAX)
    person: Person | None = None
    target = target.strip()
    municipality, suggestions = match_municipality(ctx.session, target)
    if municipality is None:
        people = [p for p in find_person(ctx.session, target) if Role.broker in p.roles]
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
    if person is not None and reassign.keeps_state(ctx, case):
        if person.id == ctx.actor.id and Role.coordinator not in ctx.actor.roles:
            raise Refused(t("You cannot transfer a case to yourself."))
        return reassign.reassign(ctx, case, person, reason)
    if case.state not in (CaseState.due, CaseState.claimed):
        raise Refused(
            t(
                "Case {ref} is {state}: name the broker who takes it over, with its "
                "follow-ups: /transfer {ref} @name.",
                ref=case.ref,
                state=label(t, case.state),
            )
        )
    if person is not None:
        if person.id == ctx.actor.id:
            raise Refused(t("You cannot transfer a case to yourself."))
        code = person.municipality_code or case.responsible_municipality_code
        assigned: str | None = person.id
    else:
        assert municipality is not None
        code, assigned = municipality.code, None
        if Role.broker in ctx.actor.roles and ctx.actor.municipality_code == code:
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
    lifecycle.apply(
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
    notify.refresh_cards(
        ctx,
        case,
        N_("Case {ref} was transferred to {municipality}: {names}."),
        municipality=where,
        names=names,
    )
    notify.notify_due(ctx, case, reason=reason, transferred_by=ctx.actor)
    lifecycle.schedule_unclaimed_checks(ctx, case)
    if previous_owner is not None and previous_owner.id != ctx.actor.id:
        notify.tell(
            ctx,
            previous_owner,
            case,
            "transferred_away",
            N_("{name} transferred your case {ref} ({student}) to {municipality}: {names}."),
            name=ctx.actor.name,
            municipality=where,
            names=names,
        )
    for contact in notify.school_side(ctx.session, case):
        notify.tell(
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
    lifecycle.apply(
        ctx,
        case,
        "place",
        destination=destination.value,
        placement_org=organisation or None,
        placement_start=start,
    )
    if destination == Destination.none:
        notify.report_to_doorstroompunt(ctx, case)
    return case


def check_withdraw(ctx: Ctx, ref: str) -> Case:
    """Case `ref` if the actor may withdraw it now; Refused with the reason if not."""
    case = lifecycle.get_in_scope(ctx, ref)
    if not may_withdraw(ctx.actor, case):
        raise Refused(
            ctx.t("Only the school or the coordinator can withdraw case {ref}.", ref=case.ref)
        )
    lifecycle.check(ctx.t, case, "withdraw")
    return case


def withdraw(ctx: Ctx, ref: str, reason: str) -> Reply:
    """Withdraw a case (confirmed, with a reason: see bot/core/withdrawal.py). Its owner, the
    brokers who had its card and the school are told; the coordinator can reopen it."""
    case = check_withdraw(ctx, ref)
    reason = lifecycle.limit_text(ctx.t, reason, lifecycle.REASON_MAX)
    if not reason:
        raise Refused(ctx.t("Say why case {ref} is withdrawn.", ref=case.ref))
    told = {case.owner_id} | {
        m.person_id
        for m in outbox.shown_of(ctx.session, case_ref=case.ref, kinds=notify.CARD_KINDS)
    }
    lifecycle.apply(ctx, case, "withdraw", closed_reason=reason)
    notify.refresh_cards(ctx, case, N_("Case {ref} is withdrawn."))
    school_side = notify.school_side(ctx.session, case)
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
    notify.tell(
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
    case = lifecycle.get_in_scope(ctx, ref)
    lifecycle.check(ctx.t, case, "reopen")
    if case.personal_data_erased_at is not None:
        raise Refused(
            ctx.t(
                "Case {ref} cannot be reopened: its retention period has passed and its "
                "details are erased. Register the leaver again.",
                ref=case.ref,
            )
        )
    lifecycle.apply(ctx, case, "reopen", owner_id=None, assigned_person_id=None, closed_reason=None)
    for contact in notify.school_side(ctx.session, case):
        notify.tell(
            ctx,
            contact,
            case,
            "reopened",
            N_("Case {ref} ({student}) is open again: the coordinator reopened it."),
        )
    lifecycle.due_if_window_open(ctx, case)
    return Reply(
        text=ctx.t(
            "Case {ref} is open again ({state}).", ref=case.ref, state=label(ctx.t, case.state)
        )
    )


def close_no_support(ctx: Ctx, ref: str, reason: str) -> Reply:
    case = lifecycle.get_in_scope(ctx, ref)
    if not may_act_as_owner(ctx.actor, case):
        raise Refused(ctx.t("Only the owner of case {ref} can close it.", ref=case.ref))
    reason = lifecycle.limit_text(ctx.t, reason, lifecycle.REASON_MAX)
    if not reason:
        raise Refused(ctx.t("Say why no support is needed: /close {ref} REASON", ref=case.ref))
    lifecycle.apply(ctx, case, "close_no_support", closed_reason=reason)
    return Reply(text=ctx.t("Case {ref} is closed.", ref=case.ref))


def lose_contact(ctx: Ctx, ref: str) -> Reply:
    case = lifecycle.get_in_scope(ctx, ref)
    if not may_act_as_owner(ctx.actor, case):
        raise Refused(ctx.t("Only the owner of case {ref} can mark it lost.", ref=case.ref))
    lifecycle.apply(ctx, case, "lose_contact")
    notify.tell_coordinators(
        ctx,
        case,
        "lost",
        N_("Case {ref}: contact with the young person is lost."),
        dedupe=str(case.version),
        details=True,
    )
    notify.report_to_doorstroompunt(ctx, case)
    return Reply(text=ctx.t("Case {ref} is marked lost; the coordinator is told.", ref=case.ref))


def split_target(ctx: Ctx, rest: str) -> tuple[str, str]:
    """A municipality name may have spaces; take the longest known prefix, else one word."""
    words = rest.split()
    names = {m.name.casefold() for m in queries.municipalities(ctx.session)}
    for n in range(len(words), 0, -1):
        if " ".join(words[:n]).casefold() in names:
            return " ".join(words[:n]), " ".join(words[n:])
    return words[0], " ".join(words[1:])


def transfer_choices(ctx: Ctx, ref: str) -> Reply:
    """The municipalities a case can be transferred to (those with a broker), as buttons; for
    a case that keeps its state when handed over (placed, say), the brokers."""
    case = lifecycle.get_in_scope(ctx, ref)
    t = ctx.t
    if not may_transfer(ctx.actor, case):
        raise Refused(not_yours(ctx, case))
    if case.state in reassign.KEEPS_STATE and reassign.keeps_state(ctx, case):
        return _broker_choices(ctx, case)
    lifecycle.check(t, case, "transfer")
    buttons, none_yet = [], []
    for m in queries.municipalities(ctx.session):
        if m.code == case.responsible_municipality_code:
            continue
        if queries.brokers_of(ctx.session, municipality_code=m.code):
            buttons.append(Button(label=m.name, action=f"transfer:{case.ref}:{m.code}"))
        else:
            none_yet.append(m.name)
    buttons.append(Button(label=t(OUTSIDE), action=f"outside:{case.ref}"))
    text = t(
        "To which municipality should case {ref} go? Or type /transfer {ref} @person [reason].",
        ref=case.ref,
    )
    if none_yet:
        text += "\n" + t("No broker yet (not offered): {names}.", names=", ".join(none_yet))
    return Reply(text=text, buttons=buttons)


def _broker_choices(ctx: Ctx, case: Case) -> Reply:
    """The brokers who can take over an owned case, those of its municipality first."""
    brokers = [
        p
        for p in queries.people_with_role(ctx.session, role=Role.broker)
        if p.id != case.owner_id and p.municipality_code
    ]
    brokers.sort(key=lambda p: (p.municipality_code != case.responsible_municipality_code, p.name))
    return Reply(
        text=ctx.t(
            "Case {ref} is {state}. Which broker takes it over (its state and follow-ups stay "
            "as they are)? Or type /transfer {ref} @person [reason].",
            ref=case.ref,
            state=label(ctx.t, case.state),
        ),
        buttons=[
            Button(
                label=f"{p.name} ({notify.municipality_of(ctx.session, p)})",
                action=f"transfer:{case.ref}:@{p.id}",
            )
            for p in brokers
        ],
    )
