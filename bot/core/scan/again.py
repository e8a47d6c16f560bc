"""A second scan in the same place starts from the first: its table and its agenda.

At `/scan start` where a scan was held before, the place sees where the previous agenda's
open actions stand (the review the meeting opens with), and the facilitator is offered the
previous seating: one press seats the same people for the same groups again (those still in
the directory), the other leaves the table empty to be seated with /scan group.
"""

from __future__ import annotations

from sqlmodel import select

from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.replies import Button, Reply
from bot.core.scan import agenda, history, marking_ahead, results, votes
from bot.core.scan.table import table_reply
from bot.core.vocab import Role
from bot.store import queries
from bot.store.models import ScanParticipant, ScanSession


def _key(scan: ScanSession) -> str:
    return f"scan:{scan.id}:seating"


def opening(ctx: Ctx, scan: ScanSession) -> list[Reply]:
    """The review of the previous agenda and the offer of the previous seating, if any."""
    previous = results.previous_scan(ctx.session, scan)
    if previous is None or previous.id is None:
        return []
    t = votes.channel_t(scan)
    content = votes.content_of(scan)
    when = history.date_of(t, previous, ctx.region.tz)
    actions = agenda.actions_of(ctx.session, previous.id)
    still = [a for a in actions if a.status != "done"]
    review = Reply(
        title=t("Where the agenda of scan {n} ({date}) stands", n=previous.id, date=when),
        text=(
            t.tn(
                "{done} of {n} action is done. These are not done yet:",
                "{done} of {n} actions are done. These are not done yet:",
                len(actions),
                done=len(actions) - len(still),
            )
            if still
            else (
                t("Every action of that agenda is done.")
                if actions
                else t("That scan ended without actions on its agenda.")
            )
        ),
        lines=[agenda.action_line(ctx.session, t, content, a) for a in still],
        to_place=True,
    )
    seated = _table_of(ctx, previous)
    if not seated:
        return [review]
    offer = Reply(
        title=t("Last time at the table (scan {n})", n=previous.id),
        text=t("Seat the same people for the same groups again, or seat the table anew?"),
        lines=[f"{label}: {', '.join(names)}" for label, names in seated],
        buttons=[
            Button(label=t("Same table"), action=f"st:{scan.id}:same", style="primary"),
            Button(label=t("Seat anew"), action=f"st:{scan.id}:new"),
        ],
        to_place=True,
        updates=_key(scan),
    )
    return [review, offer]


def _table_of(ctx: Ctx, scan: ScanSession) -> list[tuple[str, list[str]]]:
    content = votes.content_of(scan)
    by_group: dict[str, list[str]] = {}
    for row in _participants(ctx, scan):
        person = queries.person_by_id(ctx.session, person_id=row.person_id)
        if person is not None and person.active:
            by_group.setdefault(row.group_id, []).append(person.name)
    return [(g.label, by_group[g.id]) for g in content.groups if g.id in by_group]


def _participants(ctx: Ctx, scan: ScanSession) -> list[ScanParticipant]:
    return list(
        ctx.session.exec(select(ScanParticipant).where(ScanParticipant.session_id == scan.id)).all()
    )


def press(ctx: Ctx, rest: str) -> list[Reply]:
    """The facilitator's answer to the offer: 'st:<session>:same' or 'st:<session>:new'."""
    scan_id, _, choice = rest.partition(":")
    scan = ctx.session.get(ScanSession, int(scan_id)) if scan_id.isdigit() else None
    if scan is None or scan.state != "open" or choice not in ("same", "new"):
        raise Refused(ctx.t("This scan has ended."))
    if scan.facilitator_id != ctx.actor.id and Role.coordinator.value not in ctx.actor.roles:
        raise Refused(ctx.t("Only the facilitator of this scan can do that."))
    previous = results.previous_scan(ctx.session, scan)
    t = votes.channel_t(scan)
    if choice == "new" or previous is None:
        said = t("The table is seated anew: the facilitator names everyone with /scan group.")
        return [Reply(text=said, to_place=True, updates=_key(scan)), table_reply(ctx, scan)]
    here = {p.person_id for p in _participants(ctx, scan)}
    assert scan.id is not None
    for row in _participants(ctx, previous):
        person = queries.person_by_id(ctx.session, person_id=row.person_id)
        if person is None or not person.active or row.person_id in here:
            continue
        copied = row.model_dump(exclude={"id", "session_id"})
        ctx.session.add(ScanParticipant(**copied, session_id=scan.id))
        ctx.session.flush()
        if marking_ahead.is_open(scan):
            marking_ahead.invite(ctx, scan, person)
    said = t("The same table as scan {n}.", n=previous.id)
    return [Reply(text=said, to_place=True, updates=_key(scan)), table_reply(ctx, scan)]
