"""A scan's results: per factor the average, the spread and the number of votes.

The spread is the population standard deviation of the marks (0 when everyone agrees). The
change is against the previous closed scan of the region (the database is one region's).
Only aggregates: no mark is ever tied to a person here.
"""

from __future__ import annotations

import io
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot.core import drawing
from bot.core.i18n import Translator
from bot.core.replies import Reply
from bot.core.scan.model import ScanContent
from bot.store.models import ScanPoint, ScanSession, ScanVote


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
    proposed = set(
        session.exec(select(ScanPoint.factor).where(ScanPoint.session_id == scan.id)).all()
    )
    lines: list[str] = []
    shown: list[tuple[str, Result]] = []
    for factor in factors:
        result = results.get(factor)
        name = t("Warm-up") if factor == 0 else factor_title(content, factor)
        if result is None:
            lines.append(f"{name}: " + t("no votes"))
            continue
        lines.append(f"{name}: " + result_line(t, result, before.get(factor)))
        if factor:
            shown.append((name, result))
    return Reply(
        title=title,
        text=t("Spread is the standard deviation of the marks: 0 means everyone agrees."),
        lines=lines,
        image_png=drawing.png(chart, t, shown, title=title, weakest=proposed, previous=before)
        if shown
        else None,
        image_title=title,
        to_place=True,
        updates=key,
    )


def factor_title(content: ScanContent, n: int) -> str:
    factor = content.factor(n)
    return f"{n}. {factor.title}" if factor else str(n)


PALETTE = {"bar": "#4C78A8", "weak": "#E45756", "previous": "#BBBBBB", "line": "#333333"}


def _wrapped(name: str, width: int = 34) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(name, width)) or name


def figure(
    t: Translator,
    shown: Sequence[tuple[str, Result]],
    *,
    title: str,
    weakest: Collection[int] = (),
    previous: Mapping[int, Result] | None = None,
) -> Any:
    """Horizontal bars of the averages on the scale 1 to 10, the spread as a line, the number
    of votes beside each bar, the weakest factors (the proposed points) in red, and, when there
    is a previous scan, its average as a thin grey bar under each factor's."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    before = previous or {}
    with_previous = any(r.factor in before for _, r in shown)
    fig = Figure(figsize=(9, 0.65 * len(shown) + 2.0), dpi=100, layout="constrained")
    ax = fig.subplots()
    positions = list(range(len(shown)))
    height = 0.45 if with_previous else 0.6
    colours = [PALETTE["weak"] if r.factor in weakest else PALETTE["bar"] for _, r in shown]
    ax.barh(
        [p - (0.12 if with_previous else 0) for p in positions],
        [r.average - 1 for _, r in shown],
        left=1,
        height=height,
        xerr=[r.spread for _, r in shown],
        color=colours,
        ecolor=PALETTE["line"],
        capsize=4,
    )
    if with_previous:
        rows = [
            (p, before[r.factor])
            for p, (_, r) in zip(positions, shown, strict=True)
            if r.factor in before
        ]
        ax.barh(
            [p + 0.3 for p, _ in rows],
            [b.average - 1 for _, b in rows],
            left=1,
            height=0.2,
            color=PALETTE["previous"],
        )
    for position, (_, result) in zip(positions, shown, strict=True):
        ax.annotate(
            t.tn("{n} vote", "{n} votes", result.votes),
            xy=(1.0, position),
            xycoords=("axes fraction", "data"),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_yticks(positions, [_wrapped(name) for name, _ in shown])
    ax.invert_yaxis()
    ax.set_xlim(1, 10)
    ax.set_xticks(range(1, 11))
    ax.set_xlabel(t("average mark from 1 (very poor) to 10 (perfect); the line is the spread"))
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    legend = []
    if any(r.factor in weakest for _, r in shown):
        legend.append(Patch(color=PALETTE["weak"], label=t("weakest: proposed improvement point")))
    if with_previous:
        legend.append(Patch(color=PALETTE["previous"], label=t("previous scan")))
    if legend:
        fig.legend(handles=legend, loc="outside lower center", ncols=len(legend), frameon=False)
    return fig


def chart(
    t: Translator,
    shown: Sequence[tuple[str, Result]],
    *,
    title: str,
    weakest: Collection[int] = (),
    previous: Mapping[int, Result] | None = None,
) -> bytes:
    """The chart as PNG: ``shown`` is (label, result) per factor, in order; ``weakest`` the
    factor numbers to mark; ``previous`` the previous scan's results by factor number."""
    buf = io.BytesIO()
    figure(t, shown, title=title, weakest=weakest, previous=previous).savefig(
        buf, format="png", bbox_inches="tight"
    )
    return buf.getvalue()
