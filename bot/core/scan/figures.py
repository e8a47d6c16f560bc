"""The region's own figures beside a factor of the scan (continuity 10, case management 13).

Vangnet knows, from its cases and their audit trail, how handovers went in the last twelve
months: that is what the participants can hold their marks against. Each figure comes with
its N ("33% (1 of 3)"), and "no data yet" where there is nothing to count. The figures are
computed once, when the factor opens (`figures_reply`), and posted as their own message: a
vote never recomputes them.

Only counts: no case reference, no name. The moments come from the audit trail: a case's
first ``make_due`` (it became due), its first ``claim`` (a broker took it) and its
``transfer`` events.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_
from sqlmodel import Session, col, select

from bot.core import clock
from bot.core.context import Ctx
from bot.core.i18n import Translator
from bot.core.replies import Reply
from bot.core.scan.model import Factor, ScanContent, ScanFigure
from bot.core.vocab import CaseState
from bot.region import Region
from bot.store.models import AuditEvent, Case, ScanSession

YEAR = timedelta(days=365)


@dataclass
class Moments:
    """Per case reference: when it first became due, was first claimed, and its transfers."""

    due: dict[str, datetime] = field(default_factory=dict)
    claimed: dict[str, datetime] = field(default_factory=dict)
    transfers: dict[str, list[datetime]] = field(default_factory=dict)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _first(
    session: Session, action: str, *, since: datetime, or_of: Select[Any] | None = None
) -> dict[str, datetime]:
    """Per case: the moment of its first `action`, for the cases whose first one was at or
    after `since`, and (whenever it was) for the cases `or_of` selects. Counted in the
    database: the four years of a region's history stay there, not in this process."""
    first = func.min(col(AuditEvent.at))
    wanted = first >= since
    if or_of is not None:
        wanted = or_(wanted, col(AuditEvent.case_ref).in_(or_of))
    rows = session.exec(
        select(col(AuditEvent.case_ref), first)
        .where(AuditEvent.action == action, col(AuditEvent.case_ref).is_not(None))
        .group_by(col(AuditEvent.case_ref))
        .having(wanted)
    ).all()
    return {ref: _utc(at) for ref, at in rows if ref is not None and at is not None}


def _first_after(action: str, since: datetime) -> Select[Any]:
    """The cases whose first `action` was at or after `since`."""
    return (
        select(col(AuditEvent.case_ref))
        .where(AuditEvent.action == action, col(AuditEvent.case_ref).is_not(None))
        .group_by(col(AuditEvent.case_ref))
        .having(func.min(col(AuditEvent.at)) >= since)
    )


def moments(session: Session, since: datetime, today: date) -> Moments:
    """What the figures need: the first claim of the cases first claimed since `since` and
    of the leavers of the last twelve months (whenever they were claimed); the moment they
    first became due of the cases that did so since `since` and of those claimed since; the
    transfers since `since`."""
    leavers = select(col(Case.ref)).where(*_left_in_year(today))
    found = Moments(
        due=_first(session, "make_due", since=since, or_of=_first_after("claim", since)),
        claimed=_first(session, "claim", since=since, or_of=leavers),
    )
    for ref, at in session.exec(
        select(AuditEvent.case_ref, AuditEvent.at).where(
            AuditEvent.action == "transfer", col(AuditEvent.at) >= since
        )
    ).all():
        if ref is not None:
            found.transfers.setdefault(ref, []).append(_utc(at))
    return found


def _left_in_year(today: date) -> list[ColumnElement[bool]]:
    """Leavers whose exit date passed in the last twelve months (not withdrawn)."""
    return [
        col(Case.expected_exit) <= today,
        col(Case.expected_exit) > today - YEAR,
        col(Case.state) != CaseState.withdrawn,
    ]


def _leavers(session: Session, today: date) -> list[tuple[str, date]]:
    """The leavers whose exit date passed in the last twelve months (not withdrawn)."""
    return [
        (ref, exit_date)
        for ref, exit_date in session.exec(
            select(col(Case.ref), col(Case.expected_exit)).where(*_left_in_year(today))
        ).all()
    ]


def _share(t: Translator, part: int, whole: int) -> str:
    """ "33% (1 of 3)", or "no data yet" when there is nothing to count."""
    if whole == 0:
        return t("no data yet")
    return t("{pct}% ({n} of {total})", pct=round(100 * part / whole), n=part, total=whole)


def _days(t: Translator, values: list[float]) -> str:
    """The median number of days with its N, or "no data yet"."""
    if not values:
        return t("no data yet")
    median = round(statistics.median(values), 1)
    shown = f"{median:g}".replace(".", "," if t.language == "nl" else ".")
    return t.tn(
        "median {days} days ({n} case)",
        "median {days} days ({n} cases)",
        len(values),
        days=shown,
    )


def _day_of(moment: datetime, region: Region) -> date:
    return moment.astimezone(region.tz).date()


def figure_lines(
    session: Session, region: Region, t: Translator, wanted: tuple[ScanFigure, ...]
) -> list[str]:
    """The lines of the wanted figures, over the last twelve months."""
    now = clock.now()
    since = now - YEAR
    today = _day_of(now, region)
    seen = moments(session, since, today)
    leavers = _leavers(session, today) if wanted else []
    claimed_in_year = {ref: at for ref, at in seen.claimed.items() if at >= since}
    lines: list[str] = []
    for figure in wanted:
        if figure is ScanFigure.handover_on_time:
            on_time = sum(
                1
                for ref, exit_date in leavers
                if ref in seen.claimed and _day_of(seen.claimed[ref], region) <= exit_date
            )
            lines.append(
                t(
                    "Taken over by a broker before leaving school: {share}",
                    share=_share(t, on_time, len(leavers)),
                )
            )
        elif figure is ScanFigure.waiting_days:
            waited = [
                (_day_of(seen.claimed[ref], region) - exit_date).days
                for ref, exit_date in leavers
                if ref in seen.claimed and _day_of(seen.claimed[ref], region) > exit_date
            ]
            lines.append(
                t(
                    "Days between leaving school and a later takeover: {days}",
                    days=_days(t, [float(d) for d in waited]),
                )
            )
            waiting = sum(1 for ref, _ in leavers if ref not in seen.claimed)
            lines.append(
                t(
                    "Left school and not yet taken over: {share}",
                    share=_share(t, waiting, len(leavers)),
                )
            )
        elif figure is ScanFigure.one_owner:
            kept = sum(
                1
                for ref, at in claimed_in_year.items()
                if not any(moment > at for moment in seen.transfers.get(ref, []))
            )
            lines.append(
                t(
                    "Cases that kept one owner after the claim: {share}",
                    share=_share(t, kept, len(claimed_in_year)),
                )
            )
        elif figure is ScanFigure.transfers:
            due_in_year = {ref for ref, at in seen.due.items() if at >= since}
            moved = set(seen.transfers)
            due_in_year |= moved
            n = sum(len(v) for v in seen.transfers.values())
            lines.append(
                t(
                    "Transfers to another broker or municipality: {n}, cases concerned: {share}",
                    n=n,
                    share=_share(t, len(moved), len(due_in_year)),
                )
            )
        elif figure is ScanFigure.time_to_claim:
            waited_days = [
                (at - seen.due[ref]).total_seconds() / 86400
                for ref, at in claimed_in_year.items()
                if ref in seen.due and seen.due[ref] <= at
            ]
            lines.append(t("Days from due to claimed: {days}", days=_days(t, waited_days)))
    return lines


def figures_reply(ctx: Ctx, t: Translator, content: ScanContent, factor: Factor) -> Reply | None:
    """The figures beside a factor, under their heading; None for a factor without figures."""
    if not factor.figures:
        return None
    return Reply(
        title=t("Figures from Vangnet for this region, last 12 months"),
        text=t("For factor {n}: {title}", n=factor.number, title=factor.title),
        lines=figure_lines(ctx.session, ctx.region, t, factor.figures),
        to_place=True,
    )


def replies(ctx: Ctx, scan: ScanSession) -> list[Reply]:
    """The figures for the factor that just opened in ``scan`` (none for most factors)."""
    from bot.core.scan.votes import channel_t, content_of

    content = content_of(scan)
    factor = content.factor(scan.factor) if scan.factor else None
    shown = figures_reply(ctx, channel_t(scan), content, factor) if factor else None
    return [shown] if shown is not None else []
