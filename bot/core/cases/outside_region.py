"""Leavers who live outside the region (elsewhere in the Netherlands): their case is handed
over to that region by the coordinator (or its owner), with who there takes it over noted on
the case, which closes it for this region. Routing such a case to the coordinators is
`notify.pickers`; counting them in the digest, `digest.weekly`."""

from __future__ import annotations

from bot.core.cases import lifecycle, notify
from bot.core.cases.actions import not_yours
from bot.core.cases.permissions import may_transfer
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.replies import Reply
from bot.store import queries

OUTSIDE_WORDS = frozenset({"outside", "buiten"})
HANDOVER_CONTACT_MAX = 300


def hand_over_outside(ctx: Ctx, ref: str, contact: str) -> Reply:
    """Hand a case to the region where the young person lives (outside this one): the
    receiving contact is noted on the case, which closes for this region; the school is told
    who took over, and whoever owned it or had its card."""
    case = lifecycle.get_in_scope(ctx, ref)
    t = ctx.t
    if not may_transfer(ctx.actor, case):
        raise Refused(not_yours(ctx, case))
    lifecycle.check(t, case, "hand_over_outside")
    where = queries.municipality_name(ctx.session, code=case.home_municipality_code)
    contact = lifecycle.limit_text(t, contact, HANDOVER_CONTACT_MAX)
    if not contact:
        raise Refused(
            t(
                "Who in {municipality} takes case {ref} over? Type /transfer {ref} outside "
                "followed by their name, organisation and phone number or e-mail address.",
                municipality=where,
                ref=case.ref,
            )
        )
    previous_owner = queries.person_by_id(ctx.session, person_id=case.owner_id or "")
    lifecycle.apply(
        ctx,
        case,
        "hand_over_outside",
        owner_id=None,
        assigned_person_id=None,
        closed_reason="other_region",
        handed_over_to=contact,
    )
    notify.refresh_cards(
        ctx,
        case,
        N_("Case {ref} was handed over to {municipality}, outside the region."),
        municipality=where,
    )
    if previous_owner is not None and previous_owner.id != ctx.actor.id:
        notify.tell(
            ctx,
            previous_owner,
            case,
            "handed_over",
            N_("{name} handed your case {ref} ({student}) over to {municipality}: {contact}."),
            name=ctx.actor.name,
            municipality=where,
            contact=contact,
        )
    for person in notify.school_side(ctx.session, case):
        notify.tell(
            ctx,
            person,
            case,
            "handed_over",
            N_(
                "The young person of case {ref} ({student}) lives outside the region and was "
                "handed over to "
                "{municipality}: {contact}."
            ),
            municipality=where,
            contact=contact,
        )
    return Reply(
        text=t(
            "Case {ref} is handed over to {municipality} ({contact}) and closed for this region.",
            ref=case.ref,
            municipality=where,
            contact=contact,
        )
    )


def outside_help(ctx: Ctx, ref: str) -> Reply:
    """What the button "Hand over outside the region" answers: how to name who takes it."""
    case = lifecycle.get_in_scope(ctx, ref)
    if not may_transfer(ctx.actor, case):
        raise Refused(not_yours(ctx, case))
    lifecycle.check(ctx.t, case, "hand_over_outside")
    return Reply(
        text=ctx.t(
            "Who in {municipality} takes case {ref} over? Type /transfer {ref} outside "
            "followed by their name, organisation and phone number or e-mail address.",
            municipality=queries.municipality_name(ctx.session, code=case.home_municipality_code),
            ref=case.ref,
        )
    )
