"""The Participatiescan in the core: a whole session with several voters, in a place."""

from __future__ import annotations

import csv
import io
import os
import statistics
from datetime import date, timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.core.app import Core
from bot.core.replies import Reply
from bot.core.sweeps import run_sweep
from bot.handlers import plain
from bot.store.db import session_scope
from bot.store.models import ScanAction, ScanVote
from tests.factories import case, inbox, make_leaver, say, text_of

PLACE = "slack:C0SCAN"
VOTERS = ("wim", "fatima", "bram", "lotte", "sara")


def scan(core: Core, person: str, text: str, place: str = PLACE) -> list[Reply]:
    return core.handle_text(
        person_id=person, text=text, transport="test", private=False, place=place
    )


def vote(core: Core, person: str, action: str, place: str = PLACE) -> list[Reply]:
    return core.handle_action(
        person_id=person, action=action, transport="test", private=False, place=place
    )


def voting(replies: list[Reply]) -> Reply:
    """The last voting message among the replies (the one with the mark buttons)."""
    found = [
        r for r in replies if r.to_place and r.buttons and r.buttons[0].action.startswith("sv:")
    ]
    assert found, replies
    return found[-1]


def mark(message: Reply, value: int) -> str:
    return next(b.action for b in message.buttons if b.label == str(value))


def all_text(replies: list[Reply]) -> str:
    return "\n".join(text_of(r) for r in replies)


def confirmed(core: Core, command: str, person: str = "anna", place: str = PLACE) -> list[Reply]:
    """`/scan next`, `/scan close` or `/scan stop`, confirmed when asked first (no votes yet,
    or the stop's question): what the confirmation does."""
    replies = scan(core, person, command, place=place)
    asked = [b for r in replies if not r.to_place for b in r.buttons if b.action.startswith("sk:")]
    if not asked:
        return replies
    return vote(core, person, asked[0].action, place=place)


def stop(core: Core, person: str = "anna", place: str = PLACE) -> list[Reply]:
    return confirmed(core, "/scan stop", person, place)


# marks per factor of theme 1 (factors 1–5): voter → mark
THEME_1 = {
    1: [7, 8, 6, 7, 7],
    2: [4, 5, 6, 4, 6],  # average 5.0, spread 0.894
    3: [5, 5, 5, 5, 5],  # average 5.0, spread 0: after factor 2 on the tie
    4: [3, 8, 2, 9, 3],  # average 5.0, widest spread: the weakest on the tie
    5: [9, 9, 8, 9, 10],
}


def run_theme_1(core: Core) -> list[Reply]:
    """Open the scan, warm-up, factors 1–5 with the marks of THEME_1; the theme's end."""
    opened = scan(core, "anna", "/scan start")
    assert all(r.to_place for r in opened)
    message = voting(opened)
    for person, value in zip(VOTERS, [6, 7, 5, 6, 6], strict=True):
        vote(core, person, mark(message, value))
    for number in range(1, 6):
        message = voting(scan(core, "anna", "/scan next"))
        assert f"Factor {number} of 15" in (message.title or "")
        for person, value in zip(VOTERS, THEME_1[number], strict=True):
            vote(core, person, mark(message, value))
    return scan(core, "anna", "/scan next")


def test_votes_are_counted_changeable_and_never_shown_per_person(core: Core) -> None:
    opened = scan(core, "anna", "/scan start")
    text = all_text(opened)
    assert "Warm-up question" in text
    # the six groups of the content file, none at the table yet
    assert "Not yet at the table: Schools, mainly VSO, Pro and MBO; Social services" in text
    message = voting(opened)
    assert [b.label for b in message.buttons] == [str(n) for n in range(1, 11)]
    answer, *_, shown = vote(core, "wim", mark(message, 3))
    assert not answer.to_place and "Your mark 3 is recorded" in answer.text
    assert shown.to_place and shown.updates == message.updates
    assert "Votes so far: 1." in text_of(shown)
    *_, shown = vote(core, "fatima", mark(message, 9))
    assert "Votes so far: 2." in text_of(shown)
    answer, *_, shown = vote(core, "wim", mark(message, 8))  # changed: still two votes
    assert "Your mark is now 8" in answer.text
    assert "Votes so far: 2." in text_of(shown)
    said = " ".join([shown.title or "", shown.text, *shown.lines])
    assert "Wim" not in said and "8" not in said and "9" not in said  # nobody's mark, no name
    with session_scope(core.engine) as session:
        marks = sorted(v.mark for v in session.exec(select(ScanVote)).all())
    assert marks == [8, 9]
    # closed: a late vote is refused to the voter alone and changes nothing
    closed = scan(core, "anna", "/scan close")
    assert closed[0].buttons == [] and "Voting closed: 2 votes." in text_of(closed[0])
    late = vote(core, "bram", mark(message, 5))
    assert len(late) == 1 and late[0].error and not late[0].to_place
    assert "closed" in late[0].text
    results = all_text(scan(core, "wim", "/scan results"))
    assert "Warm-up: average 8.5 · spread 0.5 · 2 votes" in results


def test_only_the_coordinator_or_a_named_facilitator_runs_a_scan(core: Core) -> None:
    refused = scan(core, "wim", "/scan start")
    assert refused[0].error and "coordinator" in refused[0].text
    assert "Only the coordinator" in scan(core, "wim", "/scan facilitator lotte")[0].text
    assert (
        "Lotte Visser may now run a scan" in scan(core, "anna", "/scan facilitator lotte")[0].text
    )
    assert "Warm-up question" in all_text(scan(core, "lotte", "/scan start"))
    # only one open session per place; another place has its own
    # starting again shows where the open scan stands instead of opening a second one
    again = scan(core, "anna", "/scan start")
    assert "already open" in again[0].text and not again[0].to_place
    assert "Warm-up question" in all_text(again[1:])
    assert "Warm-up question" in all_text(scan(core, "anna", "/scan start", place="slack:C0TWO"))
    assert scan(core, "wim", "/scan next")[0].error  # not the facilitator
    assert "Factor 1 of 15" in all_text(confirmed(core, "/scan next", "lotte"))
    other = scan(core, "anna", "/scan results", place="slack:C0TWO")
    assert "Factor" not in all_text(other)  # the other session is still at its warm-up


def test_two_places_at_once_keep_their_votes_apart(core: Core) -> None:
    here = voting(scan(core, "anna", "/scan start"))
    there = voting(scan(core, "anna", "/scan start", place="telegram:-100"))
    vote(core, "wim", mark(here, 2))
    vote(core, "wim", mark(there, 10), place="telegram:-100")
    vote(core, "bram", mark(there, 6), place="telegram:-100")
    scan(core, "anna", "/scan close")
    scan(core, "anna", "/scan close", place="telegram:-100")
    assert "average 2.0 · spread 0.0 · 1 vote" in all_text(scan(core, "anna", "/scan results"))
    there_results = all_text(scan(core, "anna", "/scan results", place="telegram:-100"))
    assert "average 8.0 · spread 2.0 · 2 votes" in there_results


def test_a_theme_ends_with_results_weakest_points_and_a_chart(core: Core) -> None:
    end = run_theme_1(core)
    results = next(r for r in end if (r.title or "").startswith("Results"))
    assert results.image_png is not None and results.image_png.startswith(b"\x89PNG")
    for number, marks in THEME_1.items():
        avg = statistics.fmean(marks)
        spread = statistics.pstdev(marks)
        line = next(x for x in results.lines if x.startswith(f"{number}. "))
        assert f"average {avg:.1f} · spread {spread:.1f} · 5 votes" in line, line
    points = next(r for r in end if (r.title or "").startswith("Improvement points"))
    # lowest average first; on the tie at 5.0 the widest spread first: 4, then 2, then 3
    assert [line[:2] for line in points.lines] == ["4.", "2.", "3."]
    # participants vote on points; pressing again takes the vote back
    vote(core, "wim", "sp:1:4")
    vote(core, "bram", "sp:1:4")
    *_, shown = vote(core, "lotte", "sp:1:2")
    assert "4. Professioneel" in text_of(shown) or "4." in text_of(shown)
    *_, shown = vote(core, "lotte", "sp:1:2")
    assert any(line.startswith("2.") and ": 0 votes" in line for line in shown.lines)
    assert any(line.startswith("4.") and ": 2 votes" in line for line in shown.lines)


def test_a_restart_mid_session_continues_where_it_was(core: Core) -> None:
    message = voting(scan(core, "anna", "/scan start"))
    vote(core, "wim", mark(message, 4))
    fresh = Core(engine=core.engine, region=core.region, default_language="en")
    *_, shown = vote(fresh, "fatima", mark(message, 6))
    assert "Votes so far: 2." in text_of(shown)
    assert "Factor 1 of 15" in all_text(scan(fresh, "anna", "/scan next"))


def test_the_agenda_goes_to_owners_and_is_followed_up(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    run_theme_1(core)
    # the facilitator chooses point 4 in the channel: the form comes privately
    chosen = scan(core, "anna", "/scan choose 4")
    assert all(r.to_place for r in chosen)
    assert "Point 4 is chosen" in all_text(chosen)
    form = inbox(core, "anna", kind="scan_form")
    assert form and "What will be done" in form[0].payload["text"]
    for answer in ("Werkgevers één loket geven", "wim", "2027-03-01", "confirm"):
        core.handle_text(person_id="anna", text=answer, transport="test")
    agenda = all_text(scan(core, "bram", "/scan agenda"))
    assert "Werkgevers één loket geven — owner Wim Jansen, by 1 March 2027" in agenda
    end = stop(core)
    assert "Improvement agenda" in all_text(end)
    assert "1 owner got their actions" in all_text(end)
    assert scan(core, "anna", "/scan next")[0].error  # closed: nothing open here
    mine = inbox(core, "wim", kind="scan_agenda")
    assert len(mine) == 1 and "Werkgevers één loket geven" in str(mine[0].payload)
    assert inbox(core, "anna", kind="scan_agenda") == []
    # six weeks later the owner is asked; pressing a status records it, then a note
    frozen.shift(timedelta(weeks=6, days=1))
    run_sweep(core)
    asked = inbox(core, "wim", kind="scan_progress")
    assert len(asked) == 1
    actions = [b["action"] for b in asked[0].payload["buttons"]]
    assert actions[2].endswith(":stuck")
    assert core.handle_action(person_id="bram", action=actions[1], transport="test")[0].error
    recorded = core.handle_action(person_id="wim", action=actions[1], transport="test")
    assert "Recorded: under way." in recorded[0].text
    core.handle_text(person_id="wim", text="Eerste gesprek gevoerd", transport="test")
    core.handle_text(person_id="wim", text="confirm", transport="test")
    with session_scope(core.engine) as session:
        action = session.exec(select(ScanAction)).one()
        assert (action.status, action.note) == ("underway", "Eerste gesprek gevoerd")
    run_sweep(core)
    assert len(inbox(core, "wim", kind="scan_progress")) == 1  # asked once


def test_results_compare_with_the_previous_scan(core: Core) -> None:
    first = voting(scan(core, "anna", "/scan start"))
    for person, value in zip(VOTERS[:2], [4, 6], strict=True):
        vote(core, person, mark(first, value))
    stop(core)
    second = voting(scan(core, "anna", "/scan start"))
    for person, value in zip(VOTERS[:2], [7, 8], strict=True):
        vote(core, person, mark(second, value))
    scan(core, "anna", "/scan close")
    results = all_text(scan(core, "anna", "/scan results"))
    assert "average 7.5 · spread 0.5 · 2 votes · change since the previous scan: +2.5" in results


def test_the_weekly_digest_counts_open_actions(core: Core) -> None:
    from bot.core.digest import on_demand

    run_theme_1(core)
    scan(core, "anna", "/scan choose 2")
    for answer in ("Samen met het WSP", "lotte", "2027-02-01", "confirm"):
        core.handle_text(person_id="anna", text=answer, transport="test")
    with session_scope(core.engine) as session:
        from bot.core.i18n import translator

        digest = on_demand(session, core.region, translator("en"))
    assert "Improvement agenda: 1 open action" in digest.lines


def test_a_scan_exports_as_markdown_and_csv(
    core: Core, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from bot.cli.app import app

    run_theme_1(core)
    scan(core, "anna", "/scan choose 4")
    for answer in ("Werkgevers één loket geven", "wim", "2027-03-01", "confirm"):
        core.handle_text(person_id="anna", text=answer, transport="test")
    stop(core)
    for name in list(os.environ):
        if name.startswith(("SLACK_", "TELEGRAM_", "VANGNET_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    # the command's own engine would outlive the test: it uses the test's core instead
    monkeypatch.setattr("bot.runtime.build_core", lambda settings, *_a, **_k: core)
    runner = CliRunner()
    markdown = runner.invoke(app, ["scan", "export", "1"])
    assert markdown.exit_code == 0, markdown.output
    assert "- 4. " in markdown.stdout and "average 5.0 · spread 2.9 · 5 votes" in markdown.stdout
    assert "Werkgevers één loket geven — owner Wim Jansen" in markdown.stdout
    exported = runner.invoke(app, ["scan", "export", "1", "--csv"]).stdout
    rows = list(csv.reader(io.StringIO(exported.removeprefix("\ufeff")), delimiter=";"))
    assert ["result", "4", rows[5][2], "5.00", "2.90", "5"] == rows[5]
    assert rows[-1][:5] == ["action", "4", "Werkgevers één loket geven", "Wim Jansen", "2027-03-01"]
    missing = runner.invoke(app, ["scan", "export", "99"])
    assert missing.exit_code == 1 and "99" in missing.stderr


def test_a_factor_is_asked_by_its_norm_with_the_scales_anchors(core: Core) -> None:
    opened = voting(scan(core, "anna", "/scan start"))
    assert opened.text.endswith("(1 = very poor, 10 = perfect)")
    first = voting(confirmed(core, "/scan next"))
    assert first.text.startswith("Focus on work and talent\n\nThe norm: Our schools work by")
    assert first.text.endswith("How well does our region meet this? (1 = very poor, 10 = perfect)")
    dutch = Core(engine=core.engine, region=core.region, default_language="nl")
    scan(dutch, "anna", "/scan start", place="slack:C0NL")
    in_dutch = voting(confirmed(dutch, "/scan next", place="slack:C0NL"))
    assert "Hoe goed voldoet onze regio hieraan? (1 = heel slecht, 10 = perfect)" in in_dutch.text


def test_practices_are_a_clean_list_under_each_point_shown_once(core: Core) -> None:
    end = run_theme_1(core)
    titles = [r.title or "" for r in end]
    shown = [r for r in end if (r.title or "").startswith("Good practices for")]
    assert [r.title for r in shown] == [
        "Good practices for 4. Professionally unburdening employers",
        "Good practices for 2. Professional relationship with employers",
        "Good practices for 3. Proactive cooperation in guidance to work",
    ]
    assert titles.index(shown[-1].title or "") < titles.index(
        "Improvement points: Focus on work and talent"
    )
    plaatsingsbonus = (
        "Placement bonus Noord-Holland Noord — Noord-Holland Noord: An employer who hires a young "
        "person receives a contribution of at most € 2,000. Source: Participatiescan "
        "kennisbank; Samen voor de klant."
    )
    assert plaatsingsbonus in shown[0].lines
    for reply in shown:
        for line in reply.lines:
            assert (
                line[0].isalnum() and "–" not in line[:3] and "((" not in line and "))" not in line
            )
        assert "  • " + reply.lines[0] in plain.render(reply)
    # a point vote shows the points again, not the practices
    after = vote(core, "wim", "sp:1:4")
    assert not any((r.title or "").startswith("Good practices") for r in after)
    assert "Noord-Holland Noord" not in all_text(after)


def test_the_theme_chart_has_the_scale_a_title_votes_the_weakest_and_the_previous_scan(
    core: Core,
) -> None:
    from bot.core.i18n import translator
    from bot.core.scan.results import Result, figure

    shown = [
        ("1. Werkend leren", Result(1, 7.0, 0.6, 5)),
        ("2. Professionele relatie met werkgevers", Result(2, 4.0, 0.9, 4)),
    ]
    fig = figure(
        translator("en"),
        shown,
        title="Results: Focus on work and talent",
        weakest={2},
        previous={1: Result(1, 6.0, 1.0, 3)},
    )
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Results: Focus on work and talent"
    assert ax.get_xlim() == (1.0, 10.0)
    assert [tick for tick in ax.get_xticks()] == list(range(1, 11))
    assert [a.get_text() for a in ax.texts] == ["5 votes", "4 votes"]
    bars = ax.patches
    assert len(bars) == 3  # two factors, one previous mark (factor 2 was not scanned before)
    this_scan, weak, before = bars
    assert weak.get_facecolor() != this_scan.get_facecolor()
    assert before.get_width() == 5.0 and before.get_x() == 1.0  # from 1 up to the previous 6.0
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["weakest: proposed improvement point", "previous scan"]
    # the scan's chart is drawn with the proposed points marked
    end = run_theme_1(core)
    results = next(r for r in end if (r.title or "").startswith("Results"))
    assert results.image_png is not None and results.image_png.startswith(b"\x89PNG")


def _factor(core: Core, number: int) -> list[list[Reply]]:
    """Open the scan and go to factor `number` without votes; every step's replies."""
    steps = [scan(core, "anna", "/scan start")]
    for _ in range(number + 3):  # the warm-up, the factors, a theme's end or two
        steps.append(confirmed(core, "/scan next"))
        found = [r for r in steps[-1] if f"Factor {number} of 15" in (r.title or "")]
        if found:
            return steps
    raise AssertionError(f"factor {number} never opened")


def test_the_regions_own_figures_stand_beside_factors_10_and_13_once(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core.scan import figures

    computed: list[int] = []
    real = figures.figure_lines

    def counted(*args: object, **kwargs: object) -> list[str]:
        computed.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(figures, "figure_lines", counted)
    steps = _factor(core, 10)
    heading = "Figures from Vangnet for this region, last 12 months"
    opened = steps[-1]
    shown = next(r for r in opened if r.title == heading)
    assert shown.text == "For factor 10: Continuity of guidance"
    assert shown.lines == [
        "Taken over by a broker before leaving school: no data yet",
        "Days between leaving school and a later takeover: no data yet",
        "Left school and not yet taken over: no data yet",
    ]
    assert opened.index(shown) < opened.index(voting(opened))
    assert not any(r.title == heading for step in steps[:-1] for r in step)  # only factor 10
    message = voting(opened)
    for person in VOTERS:
        after = vote(core, person, mark(message, 6))
        assert not any(r.title == heading for r in after)
    assert computed == [1]  # once, when the factor opened; never on a vote
    for _ in range(3):
        assert not any(r.title == heading for r in confirmed(core, "/scan next"))
    factor_13 = confirmed(core, "/scan next")
    shown = next(r for r in factor_13 if r.title == heading)
    assert shown.text == "For factor 13: Effective case management"
    assert len(shown.lines) == 3 and computed == [1, 1]


def test_the_figures_count_handovers_with_their_n(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    from bot.core.i18n import translator
    from bot.core.scan import figures
    from bot.core.scan.model import ScanFigure

    on_time, later, waiting = (make_leaver(core, expected_exit="2026-12") for _ in range(3))
    say(core, "wim", f"/claim {on_time.ref}")
    frozen.move_to("2027-01-11 09:00:00+00:00")
    say(core, "wim", f"/claim {later.ref}")
    say(core, "wim", f"/transfer {on_time.ref} Kampen")
    say(core, "bram", f"/claim {on_time.ref}")
    assert waiting.ref
    with session_scope(core.engine) as session:
        lines = figures.figure_lines(session, core.region, translator("en"), tuple(ScanFigure))
    exit_day = case(core, later.ref).expected_exit
    waited = (date(2027, 1, 11) - exit_day).days
    assert lines == [
        "Taken over by a broker before leaving school: 33% (1 of 3)",
        f"Days between leaving school and a later takeover: median {waited} days (1 case)",
        "Left school and not yet taken over: 33% (1 of 3)",
        "Cases that kept one owner after the claim: 50% (1 of 2)",
        "Transfers to another broker or municipality: 1, cases concerned: 33% (1 of 3)",
        f"Days from due to claimed: median {49 / 2:g} days (2 cases)",
    ]


def test_the_figures_reach_back_beyond_the_year_where_a_handover_began_before_it(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    """A leaver of the last twelve months claimed longer ago counts as taken over in time,
    and a claim of this year counts its wait from a due date of last year (the figures are
    counted in the database, for the cases that matter, not over the whole history)."""
    from bot.core.i18n import translator
    from bot.core.scan import figures
    from bot.core.scan.model import ScanFigure

    early = make_leaver(core, early_leaver="yes", expected_exit="2027-06")
    slow = make_leaver(core, early_leaver="yes", expected_exit="2028-06")
    say(core, "wim", f"/claim {early.ref}")  # 2026-11-23
    frozen.move_to("2027-01-15 09:00:00+00:00")
    say(core, "wim", f"/claim {slow.ref}")  # due since 2026-11-23: 53 days
    frozen.move_to("2027-12-01 09:00:00+00:00")  # the year counted: from 2026-12-01
    with session_scope(core.engine) as session:
        lines = figures.figure_lines(session, core.region, translator("en"), tuple(ScanFigure))
    assert lines == [
        "Taken over by a broker before leaving school: 100% (1 of 1)",
        "Days between leaving school and a later takeover: no data yet",
        "Left school and not yet taken over: 0% (0 of 1)",
        "Cases that kept one owner after the claim: 100% (1 of 1)",
        "Transfers to another broker or municipality: 0, cases concerned: no data yet",
        "Days from due to claimed: median 53 days (1 case)",
    ]


# --- marking ahead: /scan start async DAYS ------------------------------------------------------


def dm_vote(core: Core, person: str, action: str) -> list[Reply]:
    """A mark button pressed in the person's own direct message, not in the channel."""
    return core.handle_action(person_id=person, action=action, transport="test", private=True)


def ahead_buttons(core: Core, person: str) -> list[str]:
    """The mark buttons of the last question the person got ahead by direct message."""
    asked = [m for m in inbox(core, person, kind="scan_ahead") if m.payload["buttons"]]
    return [b["action"] for b in asked[-1].payload["buttons"]]


def test_scan_start_async_refuses_bad_days_and_changes_nothing(core: Core) -> None:
    for bad in ("async", "async 0", "async 15", "async twee", "later 3"):
        refused = scan(core, "anna", f"/scan start {bad}")
        assert len(refused) == 1 and refused[0].error and not refused[0].to_place
        assert "/scan start async DAYS to mark ahead for 1 to 14 days" in refused[0].text
    assert "No scan has been held here yet" in scan(core, "anna", "/scan results")[0].text


def test_marks_given_ahead_by_direct_message_count_in_the_meeting(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    opened = scan(core, "anna", "/scan start async 4")
    text = all_text(opened)
    assert "opens the scan with marking ahead until" in text
    assert not any(r.buttons for r in opened)  # no voting in the channel yet
    told = next(r for r in opened if not r.to_place)
    assert "No participants are named for this scan yet" in told.text
    # each participant named gets the questions in a direct message, beginning with the warm-up
    for person, group in (("wim", "school"), ("fatima", "care"), ("bram", "other")):
        named = scan(core, "anna", f"/scan group {person} {group}")
        assert any("gets the questions to mark ahead" in r.text for r in named)
    assert inbox(core, "lotte", kind="scan_ahead") == []
    sent = inbox(core, "wim", kind="scan_ahead")
    assert "invites you to give your marks" in sent[0].payload["text"]
    assert sent[1].payload["title"] == "Warm-up question"
    assert [b["label"] for b in sent[1].payload["buttons"]] == [str(n) for n in range(1, 11)]
    # a mark from the direct message is counted; the next question follows
    answer, following = dm_vote(core, "wim", ahead_buttons(core, "wim")[6])  # warm-up: 7
    assert "Your mark 7 is recorded" in answer.text and not answer.to_place
    assert "Factor 1 of 15" in (following.title or "") and not following.to_place
    factor_1 = [b.action for b in following.buttons]
    dm_vote(core, "wim", factor_1[3])  # factor 1: 4
    changed = dm_vote(core, "wim", factor_1[8])  # changed to 9 before the deadline
    assert "Your mark is now 9" in changed[0].text
    dm_vote(core, "fatima", ahead_buttons(core, "fatima")[4])  # warm-up: 5
    # someone not named for this scan cannot mark ahead
    stranger = dm_vote(core, "lotte", factor_1[2])
    assert stranger[0].error and "Only the participants named" in stranger[0].text
    # halfway (two of four days) each participant who has not given every mark is reminded once
    frozen.shift(timedelta(days=1, hours=23))
    run_sweep(core)
    assert [m for m in inbox(core, "bram", kind="scan_ahead") if "Reminder" in str(m.payload)] == []
    frozen.shift(timedelta(hours=1))
    run_sweep(core)
    reminded = [m for m in inbox(core, "wim", kind="scan_ahead") if "Reminder" in str(m.payload)]
    assert len(reminded) == 1 and "You have given 2 of 16 marks" in reminded[0].payload["text"]
    frozen.shift(timedelta(hours=12))
    run_sweep(core)
    for person in ("wim", "fatima", "bram"):
        again = [m for m in inbox(core, person, kind="scan_ahead") if "Reminder" in str(m.payload)]
        assert len(again) == 1, person
    # the deadline moves the session on: no more marks ahead, the facilitator is told
    frozen.shift(timedelta(days=2))
    run_sweep(core)
    late = dm_vote(core, "bram", ahead_buttons(core, "bram")[1])
    assert late[0].error and "your mark was not recorded" in late[0].text
    ended = inbox(core, "anna", kind="scan_ahead")
    assert len(ended) == 1 and "0 of 3 participants gave all their marks" in str(ended[0].payload)
    results = all_text(scan(core, "fatima", "/scan results"))
    assert "Warm-up: average 6.0 · spread 1.0 · 2 votes" in results
    assert "average 9.0 · spread 0.0 · 1 vote" in results  # factor 1: the changed mark
    # the meeting continues live from the results: factor 1 with the mark given ahead
    meeting = scan(core, "anna", "/scan next")
    assert any(r.title == "Marks given ahead" and r.to_place for r in meeting)
    message = voting(meeting)
    assert "Factor 1 of 15" in (message.title or "") and "Votes so far: 1." in text_of(message)
    *_, shown = vote(core, "sara", mark(message, 5))
    assert "Votes so far: 2." in text_of(shown)


def test_the_facilitator_may_end_marking_ahead_early(core: Core) -> None:
    scan(core, "anna", "/scan start async 3")
    scan(core, "anna", "/scan group wim school")
    dm_vote(core, "wim", ahead_buttons(core, "wim")[7])  # warm-up: 8
    meeting = scan(core, "anna", "/scan next")
    given = next(r for r in meeting if r.title == "Marks given ahead")
    assert "Warm-up: average 8.0 · spread 0.0 · 1 vote" in given.lines
    assert "Factor 1 of 15" in (voting(meeting).title or "")
    late = dm_vote(core, "wim", ahead_buttons(core, "wim")[2])
    assert late[0].error and "your mark was not recorded" in late[0].text
