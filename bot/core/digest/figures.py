"""The digest's figures: what a week's digest counts (by state and by what needs action, per
municipality), as the message renders them, the chart draws them and the snapshot keeps them.
Counting them is `weekly.compute`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core.vocab import CaseState

STATES = [s.value for s in CaseState]
# What needs action, per municipality: due (and not yet late), unclaimed for the reminder's
# working days, overdue (past the escalation), dropped out this week, lost.
ACTIONS = ["due", "unclaimed", "overdue", "dropped", "lost"]


@dataclass(frozen=True)
class AgendaItem:
    """An open action of the improvement agenda, as the digest lists it."""

    factor: int
    text: str
    owner: str
    due: date
    status: str
    late: bool


@dataclass
class Figures:
    week: str
    by_municipality: dict[str, dict[str, int]] = field(default_factory=dict)
    # per municipality (of residence), the counts of ACTIONS; each case in one of them
    actions: dict[str, dict[str, int]] = field(default_factory=dict)
    new_forecasts: int = 0
    due: int = 0
    unclaimed: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    # unclaimed although the young person has left school (expected exit passed): apart
    past_exit: list[str] = field(default_factory=list)
    dropouts: list[str] = field(default_factory=list)
    schools_not_answered: list[str] = field(default_factory=list)
    left: int = 0
    in_view: int = 0
    structural: int = 0
    open_actions: int = 0  # of the Participatiescan's improvement agenda
    agenda: list[AgendaItem] = field(default_factory=list)  # those actions, stuck first
    # leavers living elsewhere in the Netherlands (not withdrawn), and how many of them were
    # handed over to their own region
    outside_region: int = 0
    handed_over: int = 0
    # people of the directory a chat cannot reach ("niet bereikbaar"): name (platforms)
    unreachable: list[str] = field(default_factory=list)

    def share(self, part: int) -> int | None:
        return round(100 * part / self.left) if self.left else None

    def as_json(self) -> dict[str, Any]:
        return {
            "by_municipality": self.by_municipality,
            "new_forecasts": self.new_forecasts,
            "due": self.due,
            "unclaimed": len(self.unclaimed),
            "overdue": len(self.overdue),
            "past_exit": len(self.past_exit),
            "dropouts": len(self.dropouts),
            "in_view_pct": self.share(self.in_view),
            "structural_pct": self.share(self.structural),
            "outside_region": self.outside_region,
            "handed_over": self.handed_over,
        }
