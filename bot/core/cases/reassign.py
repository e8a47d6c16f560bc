"""Handing an owned case to another broker with its state kept: a claimed case stays claimed,
a placed one stays placed with its follow-ups planned as they were, a lost one stays lost.

This is how the coordinator moves the cases of a broker who leaves (one by one with
`/transfer REF @person`, or all at once from `/admin deactivate`), and how the owner of a
placed case hands its follow-ups to a colleague. (A due case, and a broker's own claimed case,
are transferred as before: the receiver claims it, `actions.transfer`.) The change is one
audited `transfer` (same state before and after, the new owner's id); the new owner gets the
case card, and the follow-up question if one is waiting; the previous owner and the school
are told.
"""

from __future__ import annotations

from bot.core.cases import followup_question, lifecycle, notify
from bot.core.cases.cards import case_card
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.core.vocab import CaseState, Role, label
from bot.store import queries
from bot.store.models import Case, Person

# the states in which a case has an owner who can be replaced, the state staying as it is
KEEPS_STATE = frozenset({CaseState.claimed, CaseState.placed, CaseState.lost})


def keeps_state(ctx: Ctx, case: Case) -> bool:
    """Whether handing `case` to a named broker keeps its state: always for a placed or lost
    case; for a claimed one when the coordinator does it (a broker's own claimed case goes to
    the colleague to claim, as a transfer)."""
    if case.state in (CaseState.placed, CaseState.lost):
        return True
    return case.state == CaseState.claimed and Role.coordinator in ctx.actor.roles


def check_receiver(ctx: Ctx, case: Case, person: Person) -> None:
    t = ctx.t
    if not person.active or Role.broker not in person.roles:
        raise Refused(t("{name} is not a broker in the directory.", name=person.name))
    if person.id == case.owner_id:
        raise Refused(t("{name} owns case {ref} already.", name=person.name, ref=case.ref))


def reassign(ctx: Ctx, case: Case, person: Person, reason: str = "") -> Reply:
    """`person` becomes the owner of `case`, which keeps its state. The caller checked that
    the actor may hand it over."""
    if CaseState(case.state) not in KEEPS_STATE:
        raise Refused(
            ctx.t(
                "Case {ref} is {state}: only a claimed, placed or lost case can be handed to "
                "another broker this way.",
                ref=case.ref,
                state=label(ctx.t, case.state),
            )
        )
    check_receiver(ctx, case, person)
    previous = queries.person_by_id(ctx.session, person_id=case.owner_id or "")
    state = case.state
    lifecycle.update_case(
        ctx,
        case,
        "transfer",
        {"owner_id": person.id, "assigned_person_id": None},
        **{"from": state, "to": state, "owner_id": person.id},
    )
    notify.refresh_cards(ctx, case, N_("Case {ref} was handed over to {name}."), name=person.name)
    _tell_new_owner(ctx, case, person, reason)
    if previous is not None and previous.id not in (ctx.actor.id, person.id):
        notify.tell(
            ctx,
            previous,
            case,
            "transferred_away",
            N_("{name} handed your case {ref} ({student}) over to {owner}."),
            name=ctx.actor.name,
            owner=person.name,
        )
    for contact in notify.school_side(ctx.session, case):
        notify.tell(
            ctx,
            contact,
            case,
            "transferred",
            N_("Case {ref} ({student}) was handed over to {owner} ({municipality})."),
            owner=person.name,
            municipality=notify.municipality_of(ctx.session, person),
        )
    return Reply(
        text=ctx.t(
            "Case {ref} is handed over to {name}; it stays {state}.",
            ref=case.ref,
            name=person.name,
            state=label(ctx.t, case.state),
        )
    )


def _tell_new_owner(ctx: Ctx, case: Case, person: Person, reason: str) -> None:
    t = ctx.translator_for(person)
    card = case_card(
        ctx.session,
        case,
        viewer=person,
        t=t,
        private=True,
        transport=ctx.transport,
        audit_action="sent_personal",
    )
    intro = t(
        "{name} handed case {ref} over to you; it stays {state}.",
        name=ctx.actor.name,
        ref=case.ref,
        state=label(t, case.state),
    )
    if reason:
        intro += " " + t("Reason: {reason}", reason=reason)
    if case.state == CaseState.placed:
        intro += " " + t("Its follow-ups come to you now.")
    outbox.enqueue(
        ctx.session,
        person_id=person.id,
        kind="handed",
        reply=card.model_copy(update={"text": (intro + "\n" + card.text).strip()}),
        case_ref=case.ref,
        once=str(case.version),
    )
    if case.state == CaseState.placed and case.followup_open is not None:
        followup_question.ask_new_owner(ctx, case)
