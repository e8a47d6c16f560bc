"""The follow-up meeting: the whole table meets again about the improvement agenda.

The original Participatiescan's follow-up was a meeting of everyone who sat at the table. The
facilitator plans it with `/scan plan DATE TIME [WHERE]` in the place of the latest scan; everyone
at the table (the participants, the facilitator and every action's owner) gets the invitation
by direct message and, at the reminder hour of the working day before, the agenda with how
each action stands. Planned again, the meeting moves: the new invitation says so and only the
agenda of the new date is sent.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from babel.dates import format_datetime
from sqlmodel import select

from bot.core import clock, tasks
from bot.core.calendar import WORKDAY_START, at_local, working_days_before
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import Translator
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.core.scan import agenda, history, votes
from bot.core.scan.content import load_scan_content
from bot.core.text import clean
from bot.core.vocab import Role
from bot.region import Region
from bot.store import queries
from bot.store.models import Person, ScanParticipant, ScanSession, Task

_TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?:\s*(?:uur|u|h))?")
MAX_DAYS_AHEAD = 366


def when(t: Translator, region: Region, moment: datetime) -> str:
    """'maandag 15 februari 2027 om 14:00'."""
    day = format_datetime(moment, "EEEE d MMMM yyyy", tzinfo=region.tz, locale=t.language)
    hour = format_datetime(moment, "HH:mm", tzinfo=region.tz, locale=t.language)
    return t("{day} at {time}", day=day, time=hour)


def _usage(ctx: Ctx) -> Refused:
    return Refused(
        ctx.t(
            "Use: /scan plan DATE TIME [WHERE], for example /scan plan 15-2-2027 14:00 "
            "Stadhuis, zaal 2."
        )
    )


def plan(ctx: Ctx, args: str) -> list[Reply]:
    """/scan plan DATE TIME [WHERE]: the follow-up meeting of the latest scan here."""
    scan = history.meant(ctx, "")
    if scan.facilitator_id != ctx.actor.id and Role.coordinator.value not in ctx.actor.roles:
        raise Refused(ctx.t("Only the facilitator of this scan can do that."))
    found = _TIME.search(args)
    if found is None:
        raise _usage(ctx)
    day = agenda.parse_day(args[: found.start()])
    hour, minute = int(found[1]), int(found[2])
    if day is None or hour > 23 or minute > 59:
        raise _usage(ctx)
    where = clean(args[found.end() :].strip(" ,;"))[:200] or None
    moment = at_local(day, time(hour, minute), ctx.region.tz)
    now = clock.now()
    if not now < moment <= now + timedelta(days=MAX_DAYS_AHEAD):
        raise Refused(ctx.t("Plan the meeting at a moment from now to a year ahead."))
    moved = scan.meeting_at is not None and scan.meeting_at != moment
    scan.meeting_at, scan.meeting_where = moment, where
    ctx.session.add(scan)
    ctx.session.flush()
    sent_on = working_days_before(day, 1)
    agenda_at = max(at_local(sent_on, WORKDAY_START, ctx.region.tz), now)
    assert scan.id is not None
    tasks.schedule(
        ctx.session,
        kind="scan_meeting",
        due_at=agenda_at,
        payload={"session": scan.id, "at": moment.isoformat()},
        dedupe_key=f"scan_meeting:{scan.id}:{moment.isoformat()}",
    )
    table = at_the_table(ctx, scan)
    for person in table:
        t = ctx.translator_for(person)
        outbox.enqueue(
            ctx.session,
            person_id=person.id,
            kind="scan_meeting",
            reply=_invitation(ctx, t, scan, moved=moved),
            once=f"{scan.id}:{moment.isoformat()}",
        )
    t = votes.channel_t(scan)
    moment_said = when(t, ctx.region, moment) + (", " + where if where else "")
    day_said = agenda.long_date(t, agenda_at.astimezone(ctx.region.tz).date())
    return [
        Reply(
            title=t("Follow-up meeting"),
            text=t.tn(
                "The follow-up meeting of scan {scan} is on {when}. {n} person at the table "
                "got an invitation; on {day} they get the agenda with how each action stands.",
                "The follow-up meeting of scan {scan} is on {when}. {n} people at the table "
                "got an invitation; on {day} they get the agenda with how each action stands.",
                len(table),
                scan=scan.id,
                when=moment_said,
                day=day_said,
            ),
            to_place=True,
        )
    ]


def at_the_table(ctx: Ctx, scan: ScanSession) -> list[Person]:
    """Everyone at the table: the participants, the facilitator, the actions' owners."""
    assert scan.id is not None
    ids = [scan.facilitator_id]
    ids += ctx.session.exec(
        select(ScanParticipant.person_id).where(ScanParticipant.session_id == scan.id)
    ).all()
    ids += [a.owner_id for a in agenda.actions_of(ctx.session, scan.id)]
    people: dict[str, Person] = {}
    for person_id in ids:
        person = queries.person_by_id(ctx.session, person_id=person_id)
        if person is not None and person.active:
            people.setdefault(person.id, person)
    return list(people.values())


def _invitation(ctx: Ctx, t: Translator, scan: ScanSession, *, moved: bool) -> Reply:
    assert scan.meeting_at is not None
    day = history.date_of(t, scan, ctx.region.tz)
    text = t(
        "{name} invites you to the follow-up meeting of the Participatiescan of {date}: "
        "{when}. Together we go through the improvement agenda; the working day before, you "
        "get the agenda with how each action stands.",
        name=ctx.actor.name,
        date=day,
        when=when(t, ctx.region, scan.meeting_at),
    )
    if moved:
        text = t("The follow-up meeting has moved.") + " " + text
    return Reply(
        title=t("Invitation: follow-up meeting of the Participatiescan"),
        text=text,
        lines=[t("Where: {where}", where=scan.meeting_where)] if scan.meeting_where else [],
    )


def agenda_beforehand(ctx: Ctx, task: Task) -> None:
    """The working day before the meeting: the agenda, with each action's status, to all."""
    scan = ctx.session.get(ScanSession, int(task.payload["session"]))
    if scan is None or scan.meeting_at is None or scan.id is None:
        return
    if scan.meeting_at.isoformat() != task.payload.get("at"):
        return  # planned again since: the task of the new date sends it
    for person in at_the_table(ctx, scan):
        t = ctx.translator_for(person)
        content = load_scan_content(t.language)
        actions = agenda.actions_of(ctx.session, scan.id)
        text = (
            t("How each action of the improvement agenda stands:")
            if actions
            else t("The scan ended without actions on its agenda.")
        )
        if scan.meeting_where:
            text += "\n" + t("Where: {where}", where=scan.meeting_where)
        moment = when(t, ctx.region, scan.meeting_at)
        outbox.enqueue(
            ctx.session,
            person_id=person.id,
            kind="scan_meeting",
            reply=Reply(
                title=t("Agenda of the follow-up meeting, {when}", when=moment),
                text=text,
                lines=[agenda.action_line(ctx.session, t, content, a) for a in actions],
            ),
            once=f"{scan.id}:{task.payload['at']}:agenda",
        )
