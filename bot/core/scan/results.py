"""A scan's results: per factor the average, the spread and the number of votes.

The spread is the population standard deviation of the marks (0 when everyone agrees). The
change is against the previous closed scan of the region (the database is one region's).
Only aggregates: no mark is ever tied to a person here.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot.core.i18n import Translator
from bot.core.replies import Reply
from bot.core.scan.model import ScanContent
from bot.store.models import ScanSession, ScanVote


@dataclass(frozen=True)
class Result:
    factor: int
    average: float
    spread: float
    votes: int


def results_of(session: Session, scan_id: int) -> dict[int, Result]:
    """Per factor voted on (0: the warm-up), its result."""
    marks: dict[int, list[int]] = {}
    for factor, mark in session.exec(
        select(ScanVote.factor, ScanVote.mark).where(ScanVote.session_id == scan_id)
    ).all():
        marks.setdefault(factor, []).append(mark)
    found: dict[int, Result] = {}
    for factor, given in marks.items():
        average = sum(given) / len(given)
        spread = math.sqrt(sum((m - average) ** 2 for m in given) / len(given))
        found[factor] = Result(factor, average, spread, len(given))
    return found


def previous_scan(session: Session, scan: ScanSession) -> ScanSession | None:
    """The last scan closed before this one was opened."""
    return session.exec(
        select(ScanSession)
        .where(
            ScanSession.state == "closed",
            col(ScanSession.id) != scan.id,
            col(ScanSession.opened_at) <= scan.opened_at,
        )
        .order_by(col(ScanSession.closed_at).desc(), col(ScanSession.id).desc())
    ).first()


def weakest(results: dict[int, Result], factors: list[int], how_many: int) -> list[int]:
    """The weakest factors: lowest average first, the widest spread first on ties."""
    voted = [results[f] for f in factors if f in results]
    voted.sort(key=lambda r: (round(r.average, 6), -round(r.spread, 6), r.factor))
    return [r.factor for r in voted[:how_many]]


def _number(t: Translator, value: float) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if t.language == "nl" else text


def result_line(t: Translator, result: Result, before: Result | None) -> str:
    average, spread = _number(t, result.average), _number(t, result.spread)
    line = t.tn(
        "average {avg} · spread {spread} · {n} vote",
        "average {avg} · spread {spread} · {n} votes",
        result.votes,
        avg=average,
        spread=spread,
    )
    if before is not None:
        change = result.average - before.average
        sign = "+" if change > 0 else ("−" if change < 0 else "±")
        line += " · " + t(
            "change since the previous scan: {change}", change=sign + _number(t, abs(change))
        )
    return line


def results_reply(
    session: Session,
    t: Translator,
    scan: ScanSession,
    content: ScanContent,
    factors: list[int],
    *,
    title: str,
    key: str | None = None,
) -> Reply:
    """The results of these factors (and the warm-up when 0 is among them), with a chart."""
    assert scan.id is not None
    results = results_of(session, scan.id)
    previous = previous_scan(session, scan)
    before = results_of(session, previous.id) if previous and previous.id else {}
    lines: list[str] = []
    shown: list[tuple[str, Result]] = []
    for number in factors:
        result = results.get(number)
        name = t("Warm-up") if number == 0 else _factor_title(content, number)
        if result is None:
            lines.append(f"{name}: " + t("no votes"))
            continue
        lines.append(f"{name}: " + result_line(t, result, before.get(number)))
        if number:
            shown.append((name, result))
    return Reply(
        title=title,
        text=t("Spread is the standard deviation of the marks: 0 means everyone agrees."),
        lines=lines,
        image_png=chart(t, shown) if shown else None,
        image_title=title,
        to_place=True,
        updates=key,
    )


def _factor_title(content: ScanContent, number: int) -> str:
    factor = content.factor(number)
    return f"{number}. {factor.title}" if factor else str(number)


def figure(t: Translator, shown: list[tuple[str, Result]]) -> Any:
    """Horizontal bars of the averages with the spread as error bars, scale 1 to 10."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 0.5 * len(shown) + 1.8), dpi=100, layout="constrained")
    ax = fig.subplots()
    positions = list(range(len(shown)))
    ax.barh(
        positions,
        [r.average for _, r in shown],
        xerr=[r.spread for _, r in shown],
        color="#4C78A8",
        ecolor="#333333",
        capsize=4,
    )
    ax.set_yticks(positions, [name for name, _ in shown])
    ax.invert_yaxis()
    ax.set_xlim(0, 10)
    ax.set_xlabel(t("average mark (the line: spread)"))
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


def chart(t: Translator, shown: list[tuple[str, Result]]) -> bytes:
    buf = io.BytesIO()
    figure(t, shown).savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
