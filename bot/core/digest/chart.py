"""The weekly digest's chart: what needs action, and all cases by state, per municipality.

matplotlib is imported only when a chart is drawn (it takes a second to load).
"""

from __future__ import annotations

import io
from typing import Any

from bot.core.digest.figures import ACTIONS, STATES, Figures
from bot.core.i18n import Translator
from bot.core.vocab import label
from bot.region import Region

ACTION_COLOURS = {
    "due": "#f2b134",
    "unclaimed": "#e8702a",
    "overdue": "#c0392b",
    "dropped": "#7d3c98",
    "lost": "#4d4d4d",
}
STATE_COLOURS = {
    "forecast": "#a6c8e0",
    "due": "#f2b134",
    "claimed": "#5b9bd5",
    "placed": "#4caf7a",
    "closed": "#2e7d4f",
    "withdrawn": "#c8c8c8",
    "lost": "#4d4d4d",
}


def _action_labels(t: Translator, region: Region) -> dict[str, str]:
    days = region.schedule
    return {
        "due": t("due, not yet late"),
        "unclaimed": t("unclaimed {days}+ working days", days=days.remind_after_workdays),
        "overdue": t("overdue {days}+ working days", days=days.escalate_after_workdays),
        "dropped": t("dropped out this week"),
        "lost": t("lost contact"),
    }


def figure(t: Translator, region: Region, figures: Figures) -> Any:
    """The chart as a matplotlib Figure: two panels with the municipalities down the side.

    Left, what needs action (due, unclaimed, overdue, dropped out, lost) on its own scale, so
    a handful of due cases is not a sliver next to thousands of forecasts; right, all cases
    by state. Each legend sits under its panel, never over the bars.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import offset_copy

    names = sorted(figures.by_municipality)
    fig = Figure(figsize=(11, 0.4 * len(names) + 3.2), dpi=100, layout="constrained")
    act, every = fig.subplots(1, 2, sharey=True, width_ratios=(1, 1))
    positions = list(range(len(names)))
    panels = (
        (act, figures.actions, ACTIONS, _action_labels(t, region), ACTION_COLOURS),
        (every, figures.by_municipality, STATES, {s: label(t, s) for s in STATES}, STATE_COLOURS),
    )
    for ax, table, keys, labels, colours in panels:
        left = [0] * len(names)
        for key in keys:
            values = [table.get(n, {}).get(key, 0) for n in names]
            if any(values):
                ax.barh(positions, values, left=left, label=labels[key], color=colours.get(key))
                left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_xlabel(t("cases"))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0, max([*left, 1]) * 1.08)
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(
                loc="upper center",
                bbox_to_anchor=(0.5, 0),
                bbox_transform=offset_copy(ax.transAxes, fig=fig, y=-34, units="points"),
                ncol=2,
                fontsize="small",
                frameon=False,
            )
    act.set_yticks(positions, names)
    act.invert_yaxis()
    act.set_title(t("Needs action"))
    if not any(any(c.values()) for c in figures.actions.values()):
        act.text(0.5, 0.5, t("Nothing needs action."), ha="center", transform=act.transAxes)
    every.set_title(t("All cases by state"))
    fig.suptitle(t("What needs action, per municipality"))
    return fig


def chart(t: Translator, region: Region, figures: Figures) -> bytes:
    """The chart as PNG."""
    buf = io.BytesIO()
    figure(t, region, figures).savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
