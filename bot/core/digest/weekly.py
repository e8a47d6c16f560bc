"""The weekly digest (product.md 5.4): the region's figures, by reference, never by name.

Every figure is an SQL aggregate; no case is loaded to be counted. Each week's figures are
kept as a snapshot so the next digest can show the trend.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy import case as when
from sqlmodel import Session, col, select

from bot.core import clock, drawing
from bot.core.calendar import WORKDAY_START, at_local, working_days_before
from bot.core.cases.unreachable import PLATFORMS
from bot.core.digest import outside_region
from bot.core.digest.chart import chart
from bot.core.digest.figures import ACTIONS, STATES, AgendaItem, Figures
from bot.core.i18n import Translator
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.core.vocab import STRUCTURAL_DESTINATIONS, CaseState, label
from bot.region import Region
from bot.store.models import (
    AuditEvent,
    Case,
    DigestSnapshot,
    Municipality,
    Person,
    RoundRequest,
    School,
)

MAX_REFS = 30  # references listed per line; the rest is counted
MAX_ACTIONS = 15  # open actions of the improvement agenda listed; the rest is counted


def iso_week(moment: datetime, region: Region) -> str:
    year, week, _ = moment.astimezone(region.tz).isocalendar()
    return f"{year}-W{week:02d}"


def compute(session: Session, region: Region) -> Figures:
    now = clock.now()
    today = now.astimezone(region.tz).date()
    week_ago = now - timedelta(days=7)
    figures = Figures(week=iso_week(now, region))

    names = dict(session.exec(select(Municipality.code, Municipality.name)).all())
    rows = session.exec(
        select(Case.home_municipality_code, Case.state, func.count()).group_by(
            col(Case.home_municipality_code), col(Case.state)
        )
    ).all()
    for code, state, n in rows:
        if code in names:
            figures.by_municipality.setdefault(names[code], dict.fromkeys(STATES, 0))[state] = n

    figures.new_forecasts = session.exec(
        select(func.count()).select_from(Case).where(Case.created_at >= week_ago)
    ).one()
    due_rows = session.exec(
        select(Case.ref, Case.due_at, Municipality.name, col(Case.expected_exit))
        .outerjoin(Municipality, col(Municipality.code) == col(Case.home_municipality_code))
        .where(Case.state == CaseState.due)
        .order_by(col(Case.urgent).desc(), col(Case.due_at))
    ).all()
    figures.due = len(due_rows)
    figures.past_exit = [ref for ref, _, _, exit_on in due_rows if exit_on < today]
    due_refs = [(ref, due_at) for ref, due_at, _, _ in due_rows]
    remind_line = at_local(
        working_days_before(today, region.schedule.remind_after_workdays), WORKDAY_START, region.tz
    )
    overdue_line = at_local(
        working_days_before(today, region.schedule.escalate_after_workdays),
        WORKDAY_START,
        region.tz,
    )
    figures.unclaimed = [r for r, due_at in due_refs if due_at and due_at <= remind_line]
    figures.overdue = [r for r, due_at in due_refs if due_at and due_at <= overdue_line]
    dropped = session.exec(
        select(AuditEvent.case_ref)
        .where(AuditEvent.action == "followup_dropped", AuditEvent.at >= week_ago)
        .order_by(col(AuditEvent.id))
    ).all()
    figures.dropouts = [ref for ref in dropped if ref is not None]

    def count(name: str | None, action: str) -> None:
        if name is not None:
            counts = figures.actions.setdefault(name, dict.fromkeys(ACTIONS, 0))
            counts[action] += 1

    for _, due_at, name, _ in due_rows:
        late = due_at is not None and due_at <= overdue_line
        count(
            name, "overdue" if late else "unclaimed" if due_at and due_at <= remind_line else "due"
        )
    dropped_where = session.exec(
        select(Municipality.name)
        .join(Case, col(Case.home_municipality_code) == col(Municipality.code))
        .join(AuditEvent, col(AuditEvent.case_ref) == col(Case.ref))
        .where(AuditEvent.action == "followup_dropped", AuditEvent.at >= week_ago)
    ).all()
    for name in dropped_where:
        count(name, "dropped")
    for name, counts in figures.by_municipality.items():
        for _ in range(counts.get(CaseState.lost, 0)):
            count(name, "lost")

    latest_round = session.exec(select(func.max(RoundRequest.round_date))).one()
    if latest_round is not None:
        # the round is per school: one contact's confirmation answers for the school
        answered = select(RoundRequest.school_id).where(
            RoundRequest.round_date == latest_round, col(RoundRequest.confirmed_at).is_not(None)
        )
        figures.schools_not_answered = list(
            session.exec(
                select(School.name)
                .join(RoundRequest, col(RoundRequest.school_id) == col(School.id))
                .where(
                    RoundRequest.round_date == latest_round,
                    col(RoundRequest.confirmed_at).is_(None),
                    col(School.id).not_in(answered),
                )
                .distinct()
                .order_by(col(School.name))
            ).all()
        )

    # Leavers whose exit has passed in the last twelve months (withdrawn ones never left).
    left = and_(
        col(Case.expected_exit) <= today,
        col(Case.expected_exit) > today - timedelta(days=365),
        col(Case.state) != CaseState.withdrawn,
    )
    structural = [d.value for d in STRUCTURAL_DESTINATIONS]
    n_left, n_in_view, n_structural = session.exec(
        select(
            func.count(),
            func.coalesce(
                func.sum(when((col(Case.created_at) < col(Case.expected_exit), 1), else_=0)), 0
            ),
            func.coalesce(
                func.sum(
                    when(
                        (
                            col(Case.state).in_([CaseState.placed, CaseState.closed])
                            & col(Case.destination).in_(structural),
                            1,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
        ).where(left)
    ).one()
    figures.left, figures.in_view, figures.structural = n_left, int(n_in_view), int(n_structural)
    figures.outside_region, figures.handed_over = outside_region.counts(
        session, {code for code, _, _ in rows if code not in names}
    )
    from bot.core.scan import agenda

    open_actions = agenda.open_actions(session, today)
    figures.open_actions = len(open_actions)
    figures.agenda = [
        AgendaItem(a.factor, a.text, agenda.owner_name(session, a), a.due, a.status, a.due < today)
        for a in open_actions
    ]
    figures.unreachable = [
        f"{p.name} ({', '.join(PLATFORMS.get(v, v) for v in sorted(p.unreachable))})"
        for p in session.exec(
            select(Person).where(col(Person.active), col(Person.unreachable).is_not(None))
        ).all()
        if p.unreachable
    ]
    return figures


def _agenda_lines(t: Translator, items: list[AgendaItem]) -> list[str]:
    """The open actions, stuck and overdue first: status, factor, action, owner, date."""
    from bot.core.scan.agenda import STATUS_LABELS, long_date

    lines = []
    for item in items[:MAX_ACTIONS]:
        status = t(STATUS_LABELS.get(item.status, item.status))
        if item.late:
            status += ", " + t("past its date")
        lines.append(
            t(
                "{status} · factor {factor}: {action} — {owner}, by {date}",
                status=status,
                factor=item.factor,
                action=item.text,
                owner=item.owner,
                date=long_date(t, item.due),
            )
        )
    if len(items) > MAX_ACTIONS:
        lines.append(t("and {n} more", n=len(items) - MAX_ACTIONS))
    return lines


def _refs(t: Translator, refs: list[str]) -> str:
    shown = ", ".join(refs[:MAX_REFS])
    if len(refs) > MAX_REFS:
        shown += " " + t("and {n} more", n=len(refs) - MAX_REFS)
    return shown or "-"


def _pct(value: int | None) -> str:
    return "-" if value is None else f"{value}%"


def _trend(t: Translator, now: Any, before: Any, *, points: bool = False) -> str:
    """' (+2 since last week)'; for percentages the change is in percentage points."""
    if before is None or now is None:
        return ""
    diff = now - before
    if diff == 0:
        change = t("same as last week")
    elif points:
        change = t.tn(
            "{diff:+d} percentage point since last week",
            "{diff:+d} percentage points since last week",
            abs(diff),
            diff=diff,
        )
    else:
        change = t("{diff:+d} since last week", diff=diff)
    return f" ({change})"


def render(
    t: Translator,
    region: Region,
    figures: Figures,
    previous: dict[str, Any] | None,
    *,
    with_chart: bool = True,
) -> Reply:
    prev = previous or {}
    lines = []
    for name in sorted(figures.by_municipality):
        counts = figures.by_municipality[name]
        parts = [f"{counts[s]} {label(t, s)}" for s in STATES if counts.get(s)]
        lines.append(f"{name}: " + " · ".join(parts))
    lines += [
        t("New leavers this week: {n}", n=figures.new_forecasts)
        + _trend(t, figures.new_forecasts, prev.get("new_forecasts")),
        t("Due now: {n}", n=figures.due) + _trend(t, figures.due, prev.get("due")),
        t(
            "Unclaimed for {days}+ working days: {refs}",
            days=region.schedule.remind_after_workdays,
            refs=_refs(t, figures.unclaimed),
        ),
        t(
            "Overdue ({days}+ working days): {refs}",
            days=region.schedule.escalate_after_workdays,
            refs=_refs(t, figures.overdue),
        ),
        t(
            "Unclaimed although the young person has left school: {refs}",
            refs=_refs(t, figures.past_exit),
        ),
        t("Dropped out this week: {refs}", refs=_refs(t, figures.dropouts)),
        t(
            "Schools that have not answered the forecasting round: {schools}",
            schools=", ".join(figures.schools_not_answered) or "-",
        ),
        t("In view before leaving school: {pct}", pct=_pct(figures.share(figures.in_view)))
        + _trend(t, figures.share(figures.in_view), prev.get("in_view_pct"), points=True),
        t("With a structural place: {pct}", pct=_pct(figures.share(figures.structural)))
        + _trend(t, figures.share(figures.structural), prev.get("structural_pct"), points=True),
        t.tn(
            "Improvement agenda: {n} open action",
            "Improvement agenda: {n} open actions",
            figures.open_actions,
        ),
        *_agenda_lines(t, figures.agenda),
    ]
    lines += outside_region.lines(t, figures.outside_region, figures.handed_over)
    if figures.unreachable:
        lines.append(t("Cannot be reached: {people}", people=", ".join(figures.unreachable)))
    return Reply(
        title=t("Weekly digest {region} — {week}", region=region.region, week=figures.week),
        lines=lines,
        image_png=drawing.png(chart, t, region, figures)
        if with_chart and figures.by_municipality
        else None,
        image_title=t("What needs action, per municipality"),
    )


def previous_snapshot(session: Session, week: str) -> dict[str, Any] | None:
    row = session.exec(
        select(DigestSnapshot)
        .where(DigestSnapshot.week < week)
        .order_by(col(DigestSnapshot.week).desc())
    ).first()
    return row.figures if row else None


def on_demand(session: Session, region: Region, t: Translator, *, with_chart: bool = True) -> Reply:
    """The digest now; `with_chart=False` when nobody will see the chart (it is slow)."""
    figures = compute(session, region)
    previous = previous_snapshot(session, figures.week)
    return render(t, region, figures, previous, with_chart=with_chart)


def send_weekly(
    session: Session, region: Region, *, translator_for: Any, coordinators: list[Any]
) -> int:
    """Record this week's digest for every coordinator (once per week) and keep the snapshot."""
    figures = compute(session, region)
    previous = previous_snapshot(session, figures.week)
    sent = 0
    for person in coordinators:
        if outbox.enqueue(
            session,
            person_id=person.id,
            kind="digest",
            reply=render(translator_for(person), region, figures, previous),
            once=figures.week,
        ):
            sent += 1
    if session.get(DigestSnapshot, figures.week) is None:
        session.add(
            DigestSnapshot(week=figures.week, figures=figures.as_json(), created_at=clock.now())
        )
    return sent
