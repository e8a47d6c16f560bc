"""Forecasting rounds (product.md 5.1): on each configured date every school contact is asked,
by direct message, for the expected leavers of the coming period.

The round is per school: when one contact of a school presses "My list is complete", the
school has answered; its other contacts are told who confirmed and are reminded no more.
Until then each contact is reminded on working days, and a reminder never piles up on an
unanswered one (it replaces it); after the configured number of working days the
coordinator hears which schools did not answer. Each
request is a row (unique per round and person) and each message has a dedupe key, so a
restart, or two instances at once, never ask anyone twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from babel.dates import format_date
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.core import clock
from bot.core.calendar import is_working_day, working_days_between
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import N_, Translator
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.core.vocab import Role
from bot.store import queries
from bot.store.models import OutboxMessage, Person, RoundRequest, School

# A round date missed while the bot was down is still started within this many days.
CATCH_UP_DAYS = 7
ADD, UPLOAD, SHOW, COMPLETE = (
    N_("Add leaver"),
    N_("Upload CSV"),
    N_("Show my list"),
    N_("My list is complete"),
)


def current_round(ctx: Ctx) -> date | None:
    """The configured round date that started in the last CATCH_UP_DAYS days, if any."""
    today = clock.today(ctx.region.tz)
    for back in range(CATCH_UP_DAYS + 1):
        day = today - timedelta(days=back)
        if (day.month, day.day) in ctx.region.schedule.forecast_round_dates:
            return day
    return None


def _buttons(t: Translator, round_date: date) -> list[Button]:
    return [
        Button(label=t(ADD), action="cmd:leaver", style="primary"),
        Button(label=t(UPLOAD), action="round:upload"),
        Button(label=t(SHOW), action="leavers:1"),
        Button(label=t(COMPLETE), action=f"round:complete:{round_date.isoformat()}"),
    ]


def _ask_text(t: Translator, school: str) -> str:
    return t(
        "The forecasting round has started. Which pupils of {school} are expected to leave "
        "school in the coming period? Add them one by one or upload a CSV file, then press "
        '"My list is complete" when everybody is in.',
        school=school,
    )


def start_round(ctx: Ctx) -> int:
    """Ask every school contact (once) when a round has started. Returns how many were asked."""
    round_date = current_round(ctx)
    if round_date is None:
        return 0
    asked = 0
    for person in queries.people_with_role(ctx.session, role=Role.school_contact):
        school = queries.school_by_id(ctx.session, school_id=person.school_id or "")
        if school is None or school.id in answered_schools(ctx, round_date):
            continue
        try:
            with ctx.session.begin_nested():
                ctx.session.add(
                    RoundRequest(
                        round_date=round_date,
                        person_id=person.id,
                        school_id=school.id,
                        asked_at=clock.now(),
                    )
                )
        except IntegrityError:
            continue  # asked already in this round
        t = ctx.translator_for(person)
        outbox.enqueue(
            ctx.session,
            person_id=person.id,
            kind="round",
            reply=Reply(
                title=t("Forecasting round"),
                text=_ask_text(t, school.name),
                buttons=_buttons(t, round_date),
            ),
            once=round_date.isoformat(),
        )
        asked += 1
    return asked


def remind_and_report(ctx: Ctx) -> None:
    """Once per working day: remind who has not confirmed; after the limit, tell the coordinator."""
    today = clock.today(ctx.region.tz)
    if not is_working_day(today):
        return
    limit = ctx.region.schedule.round_answer_workdays
    open_requests = ctx.session.exec(
        select(RoundRequest).where(
            col(RoundRequest.confirmed_at).is_(None),
            col(RoundRequest.coordinator_told_at).is_(None),
        )
    ).all()
    overdue: dict[date, list[RoundRequest]] = {}
    answered = {day: answered_schools(ctx, day) for day in {r.round_date for r in open_requests}}
    for request in open_requests:
        if request.school_id in answered[request.round_date]:
            continue  # a colleague at the same school confirmed the list
        asked_on = request.asked_at.astimezone(ctx.region.tz).date()
        if working_days_between(asked_on, today) >= limit:
            overdue.setdefault(request.round_date, []).append(request)
            continue
        if asked_on == today or request.last_reminded_on == today:
            continue
        person = ctx.session.get(Person, request.person_id)
        school = ctx.session.get(School, request.school_id)
        if person is None or not person.active or school is None:
            continue
        t = ctx.translator_for(person)
        asked = format_date(asked_on, "d MMMM", locale=t.language)
        reminder = Reply(
            title=t("Forecasting round"),
            text=t(
                "Reminder: is the list of expected leavers of {school} complete? You were "
                "asked on {date}.",
                school=school.name,
                date=asked,
            ),
            buttons=_buttons(t, request.round_date),
        )
        if _remind(ctx, person, reminder, f"{request.round_date.isoformat()}:{today}"):
            request.last_reminded_on = today
            ctx.session.add(request)
    for round_date, requests in overdue.items():
        found = [ctx.session.get(School, r.school_id) for r in requests]
        schools = sorted({school.name for school in found if school is not None})
        for coordinator in queries.people_with_role(ctx.session, role=Role.coordinator):
            t = ctx.translator_for(coordinator)
            outbox.enqueue(
                ctx.session,
                person_id=coordinator.id,
                kind="round_report",
                reply=Reply(
                    title=t("Forecasting round"),
                    text=t(
                        "These schools have not confirmed their list of expected leavers after "
                        "{days} working days:",
                        days=limit,
                    ),
                    lines=schools,
                ),
                once=round_date.isoformat(),
            )
        for request in requests:
            request.coordinator_told_at = clock.now()
            ctx.session.add(request)


def answered_schools(ctx: Ctx, round_date: date) -> set[str]:
    """The schools of which a contact confirmed the list in the round of `round_date`: the
    round is per school, so one contact's "My list is complete" answers for all of them."""
    return set(
        ctx.session.exec(
            select(RoundRequest.school_id).where(
                RoundRequest.round_date == round_date, col(RoundRequest.confirmed_at).is_not(None)
            )
        ).all()
    )


def _unanswered(ctx: Ctx, person_id: str) -> list[OutboxMessage]:
    """The round's question and reminders to `person_id` that still show buttons to answer:
    recorded, not replaced by an edit, not dropped."""
    return list(
        ctx.session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.person_id == person_id,
                col(OutboxMessage.kind).in_(["round", "round_reminder"]),
                col(OutboxMessage.replaces_id).is_(None),
                col(OutboxMessage.dropped_at).is_(None),
            )
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def _remind(ctx: Ctx, person: Person, reminder: Reply, once: str) -> bool:
    """A reminder that never piles up: one not delivered yet is replaced by the new one; one
    delivered is followed by the new one and edited to a short line without buttons (where
    the platform can edit). False when this reminder was recorded before."""
    earlier = _unanswered(ctx, person.id)
    waiting = [m for m in earlier if m.sent_at is None and m.kind == "round_reminder"]
    if waiting:
        outbox.replace(ctx.session, waiting[-1], reminder, once=once)
        return True
    if not outbox.enqueue(
        ctx.session, person_id=person.id, kind="round_reminder", reply=reminder, once=once
    ):
        return False
    t = ctx.translator_for(person)
    for message in earlier:
        if message.kind == "round_reminder" and message.sent_at is not None:
            replaced = Reply(title=t("Forecasting round"), text=t("See the newer reminder."))
            outbox.replace(ctx.session, message, replaced, once=f"newer:{once}")
    return True


def confirm(ctx: Ctx, round_date: str) -> list[Reply]:
    """The school contact pressed "My list is complete"."""
    try:
        day = date.fromisoformat(round_date)
    except ValueError:
        raise Refused(ctx.t("That button no longer works. Type /help.")) from None
    request = ctx.session.exec(
        select(RoundRequest).where(
            RoundRequest.round_date == day, RoundRequest.person_id == ctx.actor.id
        )
    ).first()
    if request is None:
        raise Refused(ctx.t("You were not asked in that forecasting round."))
    colleagues = ctx.session.exec(
        select(RoundRequest).where(
            RoundRequest.round_date == day,
            RoundRequest.school_id == request.school_id,
            RoundRequest.person_id != ctx.actor.id,
        )
    ).all()
    first = next((r for r in colleagues if r.confirmed_at is not None), None)
    if request.confirmed_at is None and first is not None:
        by = queries.person_by_id(ctx.session, person_id=first.person_id)
        return [
            Reply(
                text=ctx.t(
                    "{name} already confirmed that your school's list is complete. Thank you.",
                    name=by.name if by else first.person_id,
                )
            )
        ]
    if request.confirmed_at is None:
        request.confirmed_at = clock.now()
        ctx.session.add(request)
        _tell_colleagues(ctx, request, colleagues)
    return [Reply(text=ctx.t("Thank you: your list is complete. The coordinator can see it."))]


def _tell_colleagues(ctx: Ctx, request: RoundRequest, colleagues: Sequence[RoundRequest]) -> None:
    """The school's other contacts of this round: who confirmed, and no more reminders (the
    ones still waiting are dropped)."""
    school = queries.school_by_id(ctx.session, school_id=request.school_id)
    for other in colleagues:
        person = queries.person_by_id(ctx.session, person_id=other.person_id)
        if person is None or not person.active:
            continue
        for message in _unanswered(ctx, person.id):
            if message.sent_at is None:
                outbox.drop(ctx.session, message)
        t = ctx.translator_for(person)
        outbox.enqueue(
            ctx.session,
            person_id=person.id,
            kind="round_answered",
            reply=Reply(
                title=t("Forecasting round"),
                text=t(
                    "{name} confirmed that the list of expected leavers of {school} is "
                    "complete. You get no more reminders in this round.",
                    name=ctx.actor.name,
                    school=school.name if school else request.school_id,
                ),
            ),
            once=request.round_date.isoformat(),
        )


UPLOAD_HELP = N_(
    "Send the file to me in this chat (in the terminal chat: /upload PATH): a CSV file (UTF-8 "
    "or Windows-1252, separated by commas, semicolons or tabs) or an Excel workbook (.xlsx; "
    'the first sheet, or type "sheet NAME" with the file). Columns: student_ref, '
    "home_municipality, programme and expected_exit are required; name, birth_year, "
    "vso_profile, early_leaver, destination_wish, consent, contact and notes are optional. "
    "Dutch column names work too, and so do those of your student administration's export "
    "(Leerlingnummer, Roepnaam, Tussenvoegsel, Achternaam, Geboortedatum, Woonplaats); other "
    "columns are ignored. The file is taken whole or not at all."
)


def upload_help(ctx: Ctx) -> list[Reply]:
    return [Reply(text=ctx.t(UPLOAD_HELP))]
