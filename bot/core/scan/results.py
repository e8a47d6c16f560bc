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
    """The last scan in the same place closed before this one was opened."""
    return session.exec(
        select(ScanSession)
        .where(
            ScanSession.state == "closed",
            ScanSession.place == scan.place,
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


def number(t: Translator, value: float) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if t.language == "nl" else text


def signed(t: Translator, change: float) -> str:
    """+1,5 / −0,5 / ±0,0: a change of an average mark."""
    sign = "+" if change > 0.05 else ("−" if change < -0.05 else "±")
    return sign + number(t, abs(change))


def result_line(t: Translator, result: Result, before: Result | None) -> str:
    average, spread = number(t, result.average), number(t, result.spread)
    line = t.tn(
        "average {avg} · spread {spread} · {n} vote",
        "average {avg} · spread {spread} · {n} votes",
        result.votes,
        avg=average,
        spread=spread,
    )
    if before is not None:
        line += " · " + t(
            "change since the previous scan: {change}",
            change=signed(t, result.average - before.average),
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
    marks_before: list[float | None] = []
    for factor in factors:
        result = results.get(factor)
        name = t("Warm-up") if factor == 0 else factor_title(content, factor)
        if result is None:
            lines.append(f"{name}: " + t("no votes"))
            continue
        lines.append(f"{name}: " + result_line(t, result, before.get(factor)))
        if factor:
            shown.append((name, result))
            marks_before.append(before[factor].average if factor in before else None)
    return Reply(
        title=title,
        text=t("Spread is the standard deviation of the marks: 0 means everyone agrees."),
        lines=lines,
        image_png=chart(t, shown, before=marks_before if before else None) if shown else None,
        image_title=title,
        to_place=True,
        updates=key,
    )


def factor_title(content: ScanContent, n: int) -> str:
    factor = content.factor(n)
    return f"{n}. {factor.title}" if factor else str(n)


def figure(
    t: Translator, shown: list[tuple[str, Result]], *, before: list[float | None] | None = None
) -> Any:
    """Horizontal bars of the averages with the spread as error bars, scale 1 to 10; with
    `before`, the previous scan's average of each factor as a mark beside its bar."""
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
    if before is not None and any(b is not None for b in before):
        marked = [(p, b) for p, b in zip(positions, before, strict=True) if b is not None]
        ax.scatter(
            [b for _, b in marked],
            [p for p, _ in marked],
            marker="D",
            color="#E45756",
            zorder=3,
            label=t("previous scan"),
        )
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False, borderaxespad=0.2)
    ax.set_xlim(0, 10)
    ax.set_xlabel(t("average mark (the line: spread)"))
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


def chart(
    t: Translator, shown: list[tuple[str, Result]], *, before: list[float | None] | None = None
) -> bytes:
    buf = io.BytesIO()
    figure(t, shown, before=before).savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
