"""The weekly digest: figures checked against a situation counted by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from bot.core.app import Core
from bot.core.digest import Figures, chart, compute, figure, render
from bot.core.i18n import translator
from bot.core.sweeps import run_digest, run_sweep
from bot.region import Region
from bot.store.db import session_scope
from tests.core.test_schedule import place
from tests.factories import inbox, make_leaver, one, press, say

AMS = ZoneInfo("Europe/Amsterdam")


def at(traveller: time_machine.Coordinates, *args: int) -> None:
    traveller.move_to(datetime(*args, tzinfo=AMS))


def build_week(core: Core, frozen: time_machine.Coordinates) -> dict[str, str]:
    """By hand: Zwolle 1 forecast, 1 due (old), 1 placed; Kampen 1 due (fresh), 1 dropped out."""
    at(frozen, 2026, 11, 2, 10, 0)  # three weeks before the digest
    old_due = make_leaver(
        core, early_leaver="yes", expected_exit="2026-11", consent="given", name="Geheime Naam"
    )
    placed = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    dropped = make_leaver(
        core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11"
    )
    say(core, "wim", f"/claim {placed.ref}")
    place(core, "wim", placed.ref, "work", "Bakkerij", "2026-11-02")
    say(core, "bram", f"/claim {dropped.ref}")
    place(core, "bram", dropped.ref, "work", "Kwekerij", "2026-10-20")
    at(frozen, 2026, 11, 19, 9, 0)  # 30 days after 20 October: Bram is asked
    run_sweep(core)
    press(core, "bram", f"fu:{dropped.ref}:0:dropped")
    at(frozen, 2026, 11, 20, 10, 0)
    fresh_due = make_leaver(
        core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11"
    )
    forecast = make_leaver(core, expected_exit="2027-06")
    at(frozen, 2026, 11, 23, 8, 30)  # Monday, digest time
    return {
        "old_due": old_due.ref,
        "placed": placed.ref,
        "dropped": dropped.ref,
        "fresh_due": fresh_due.ref,
        "forecast": forecast.ref,
    }


def test_the_digest_figures_match_the_hand_count(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    refs = build_week(core, frozen)
    lines = one(say(core, "anna", "/digest")).lines
    text = "\n".join(lines)
    by_name = {line.split(":")[0]: line for line in lines}
    assert by_name["Zwolle"] == "Zwolle: 1 forecast · 1 due · 1 placed"
    assert by_name["Kampen"] == "Kampen: 1 due · 1 claimed"  # the drop-out is claimed again
    # unclaimed 3+ working days: only the old Zwolle case; the fresh one is from Friday
    assert f"Unclaimed for 3+ working days: {refs['old_due']}" in lines
    assert f"Overdue (7+ working days): {refs['old_due']}" in lines
    assert "Due now: 2" in lines
    assert f"Dropped out this week: {refs['dropped']}" in lines
    # left school (exit November 2026 has passed: the 1st): 4 leavers; all registered in
    # November, so none was in view before the 1st; one (placed, work) has a structural place
    assert "In view before leaving school: 0%" in lines
    assert "With a structural place: 25%" in lines
    assert "Geheime" not in text


def test_the_weekly_digest_goes_to_coordinators_once_with_a_chart(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    build_week(core, frozen)
    assert run_digest(core) == 1
    assert run_digest(core) == 0  # the same week again: nothing new
    (digest,) = inbox(core, "anna", kind="digest")
    assert digest.payload["image_png"]  # the chart travels with it


def test_next_week_shows_the_trend(core: Core, frozen: time_machine.Coordinates) -> None:
    build_week(core, frozen)
    run_digest(core)
    at(frozen, 2026, 11, 30, 8, 30)
    run_digest(core)
    second = inbox(core, "anna", kind="digest")[-1]
    lines = second.payload["lines"]
    assert any(line.startswith("New leavers this week: 0 (-2") for line in lines)  # 2 → 0
    assert "Due now: 2 (same as last week)" in lines


def test_percentages_change_by_percentage_points(region: Region) -> None:
    # 4 left school: 2 in view (50%, was 47%), 1 with a structural place (25%, as last week)
    figures = Figures(week="2026-W48", left=4, in_view=2, structural=1, new_forecasts=3)
    previous = {"new_forecasts": 2, "in_view_pct": 47, "structural_pct": 25}
    nl = render(translator("nl"), region, figures, previous).lines
    assert "In beeld vóór uitstroom: 50% (+3 procentpunt sinds vorige week)" in nl
    assert "Met een structurele plek: 25% (gelijk aan vorige week)" in nl
    assert "Nieuwe uitstromers deze week: 3 (+1 sinds vorige week)" in nl
    previous["in_view_pct"] = 51
    en = render(translator("en"), region, figures, previous).lines
    assert "In view before leaving school: 50% (-1 percentage point since last week)" in en
    assert "With a structural place: 25% (same as last week)" in en


def test_the_chart_shows_what_needs_action_on_its_own_scale(core: Core) -> None:
    """5,000 forecasts in Zwolle must not turn Kampen's two overdue cases into a sliver."""
    figures = Figures(
        week="2026-W48",
        by_municipality={
            "Zwolle": {"forecast": 5000, "claimed": 40, "placed": 12},
            "Kampen": {"forecast": 800, "due": 3, "lost": 1},
        },
        actions={
            "Kampen": {"due": 1, "unclaimed": 0, "overdue": 2, "dropped": 0, "lost": 1},
            "Zwolle": {"due": 0, "unclaimed": 0, "overdue": 0, "dropped": 1, "lost": 0},
        },
    )
    fig = figure(translator("en"), core.region, figures)
    action, every = fig.axes[:2]
    assert action.get_title() == "Needs action"
    assert action.get_xlim()[1] < 10  # scaled to the actionable counts, not to 5,000
    assert every.get_xlim()[1] > 5000
    widths = {
        legend_text: sum(bar.get_width() for bar in container)
        for container, legend_text in zip(
            action.containers, [t.get_text() for t in action.get_legend().get_texts()], strict=True
        )
    }
    assert widths == {
        "due, not yet late": 1,
        "overdue 7+ working days": 2,
        "dropped out this week": 1,
        "lost contact": 1,
    }
    fig.canvas.draw()
    for ax in (action, every):  # each legend lies under its panel, not over the bars
        assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0
    assert chart(translator("en"), core.region, figures).startswith(b"\x89PNG")


def test_the_actionable_figures_are_counted_per_municipality(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    build_week(core, frozen)
    with session_scope(core.engine) as session:
        figures = compute(session, core.region)
    assert figures.actions == {
        "Zwolle": {"due": 0, "unclaimed": 0, "overdue": 1, "dropped": 0, "lost": 0},
        "Kampen": {"due": 1, "unclaimed": 0, "overdue": 0, "dropped": 1, "lost": 0},
    }
