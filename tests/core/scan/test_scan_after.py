"""The Participatiescan after the meeting: the place's scans, the agenda living on (the digest,
stuck actions, follow-ups on working days, the follow-up meeting), a second scan that starts
from the first, the comparison, the CSV for Excel and the PDF report."""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader
from sqlmodel import select

from bot.core.app import Core
from bot.core.replies import Reply
from bot.core.sweeps import run_sweep
from bot.store.db import session_scope
from bot.store.models import ScanAction, Task
from tests.core.scan.test_scan import (
    VOTERS,
    all_text,
    confirmed,
    mark,
    run_theme_1,
    scan,
    stop,
    vote,
    voting,
)
from tests.factories import inbox

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def add_action(core: Core, factor: int, text: str, owner: str, due: str, by: str = "anna") -> None:
    """The facilitator chooses a point and fills in its action in the private form."""
    scan(core, by, f"/scan choose {factor}")
    for answer in (text, owner, due, "confirm"):
        core.handle_text(person_id=by, text=answer, transport="test")


def pdf_text(data: bytes) -> str:
    """The words of the PDF, with every run of spaces and line ends as one space."""
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    return " ".join(" ".join(pages).split())


def test_after_the_scan_results_agenda_and_the_list_still_work(core: Core) -> None:
    assert "No scan has been held here yet" in scan(core, "anna", "/scan list")[0].text
    run_theme_1(core)
    add_action(core, 4, "Werkgevers één loket geven", "wim", "2027-03-01")
    stop(core, "anna")
    # ended: the latest scan here is meant
    agenda = all_text(scan(core, "bram", "/scan agenda"))
    assert "Werkgevers één loket geven — owner Wim Jansen, by 1 March 2027 (open)" in agenda
    assert "Results of scan 1" in all_text(scan(core, "bram", "/scan results"))
    second = voting(scan(core, "anna", "/scan start"))
    vote(core, "wim", mark(second, 9))
    stop(core, "anna")
    listed = scan(core, "sara", "/scan list")[0]
    assert listed.lines == [
        "Scan 2 — 23 November 2026 — 0 actions, 0 not done",
        "Scan 1 — 23 November 2026 — 1 action, 1 not done",
    ]
    assert "No actions on the agenda yet" in all_text(scan(core, "bram", "/scan agenda"))
    assert "Werkgevers één loket" in all_text(scan(core, "bram", "/scan agenda 1"))
    assert "Warm-up: average 9.0" in all_text(scan(core, "bram", "/scan results 2"))
    # another place's scans are not this place's; a wrong number changes nothing
    for line in ("/scan agenda 99", "/scan results twee"):
        refused = scan(core, "bram", line)
        assert refused[0].error and "/scan list shows this place's scans" in refused[0].text
    elsewhere = scan(core, "bram", "/scan agenda 1", place="telegram:-100")
    assert elsewhere[0].error
    assert (
        "No scan has been held here yet" in scan(core, "bram", "/scan list", "slack:C0TWO")[0].text
    )


def test_the_digest_lists_open_actions_stuck_and_overdue_first(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    from bot.core.digest import on_demand
    from bot.core.i18n import translator

    scan(core, "anna", "/scan facilitator lotte")
    scan(core, "lotte", "/scan start")
    for _ in range(5):
        message = voting(confirmed(core, "/scan next", "lotte"))
        for person, value in zip(VOTERS, [3, 4, 5, 6, 7], strict=True):
            vote(core, person, mark(message, value))
    confirmed(core, "/scan next", "lotte")  # theme 1 ends: its weakest factors proposed
    add_action(core, 1, "Stageplekken bundelen", "bram", "2027-02-01", by="lotte")
    add_action(core, 2, "Werkgeversavond", "sara", "2026-12-15", by="lotte")
    add_action(core, 3, "Eén loket", "wim", "2027-03-01", by="lotte")
    stop(core, "lotte")
    frozen.shift(timedelta(weeks=6, days=1))
    run_sweep(core)
    asked = inbox(core, "wim", kind="scan_progress")[0]
    stuck = next(b["action"] for b in asked.payload["buttons"] if b["label"] == "Stuck")
    core.handle_action(person_id="wim", action=stuck, transport="test")
    core.handle_text(person_id="wim", text="Geen budget gevonden", transport="test")
    done = core.handle_text(person_id="wim", text="confirm", transport="test")
    assert "The coordinator and the facilitator know the action is stuck" in done[-1].text
    # the coordinator and the facilitator are told at once, with the note
    for person in ("anna", "lotte"):
        (told,) = inbox(core, person, kind="scan_stuck")
        said = str(told.payload)
        assert "Wim Jansen reports that this action is stuck" in said
        assert "Eén loket" in said and "Geen budget gevonden" in said
    assert inbox(core, "wim", kind="scan_stuck") == []
    with session_scope(core.engine) as session:
        digest = on_demand(session, core.region, translator("en"), with_chart=False)
    at = digest.lines.index("Improvement agenda: 3 open actions")
    assert digest.lines[at + 1 : at + 4] == [
        "stuck · factor 3: Eén loket — Wim Jansen, by 1 March 2027",
        "open, past its date · factor 2: Werkgeversavond — Sara Smit, by 15 December 2026",
        "open · factor 1: Stageplekken bundelen — Bram Bakker, by 1 February 2027",
    ]


def test_follow_ups_fall_on_a_working_day_and_the_owner_is_told_when(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    run_theme_1(core)
    scan(core, "anna", "/scan choose 4")
    for answer in ("Werkgevers één loket geven", "wim"):
        core.handle_text(person_id="anna", text=answer, transport="test")
    # up to two years ahead; further is refused with the last day that may be given
    too_far = core.handle_text(person_id="anna", text="1-1-2029", transport="test")
    assert "Give a date from today to 23 November 2028" in too_far[0].text
    summary = core.handle_text(person_id="anna", text="1 March 2028", transport="test")[-1]
    assert [(f.label, f.value) for f in summary.fields][1:] == [
        ("Action owner", "Wim Jansen (wim)"),
        ("No later than", "1 March 2028"),
    ]
    core.handle_text(person_id="anna", text="confirm", transport="test")
    frozen.shift(timedelta(days=5))  # Saturday 28 November: six weeks on is a Saturday too
    end = all_text(stop(core, "anna"))
    assert "I will ask them about their progress on 11 January 2027" in end
    (mine,) = inbox(core, "wim", kind="scan_agenda")
    assert "On 11 January 2027 I will ask you how they are going" in mine.payload["text"]
    with session_scope(core.engine) as session:
        task = session.exec(select(Task).where(Task.kind == "scan_followup")).one()
    assert task.due_at.astimezone(AMSTERDAM) == datetime(2027, 1, 11, 9, 0, tzinfo=AMSTERDAM)
    frozen.move_to(datetime(2027, 1, 11, 8, 30, tzinfo=AMSTERDAM))
    run_sweep(core)
    assert inbox(core, "wim", kind="scan_progress") == []
    frozen.move_to(datetime(2027, 1, 11, 9, 1, tzinfo=AMSTERDAM))
    run_sweep(core)
    (asked,) = inbox(core, "wim", kind="scan_progress")
    assert [b["label"] for b in asked.payload["buttons"]] == ["Done", "Under way", "Stuck"]


def test_the_follow_up_meeting_is_planned_for_the_whole_table(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    scan(core, "anna", "/scan start")
    for person, group in (("wim", "school"), ("fatima", "care")):
        scan(core, "anna", f"/scan group {person} {group}")
    stop(core, "anna")
    add_later = scan(core, "anna", "/scan plan 14:00")
    assert add_later[0].error and "/scan plan DATE TIME" in add_later[0].text
    assert scan(core, "wim", "/scan plan 15-1-2027 14:00")[0].error  # not the facilitator
    assert "from now to a year ahead" in scan(core, "anna", "/scan plan 1-11-2026 14:00")[0].text
    with session_scope(core.engine) as session:  # an action of the agenda, owned by Bram
        session.add(
            ScanAction(
                session_id=1,
                factor=4,
                text="Werkgevers één loket geven",
                owner_id="bram",
                due=date(2027, 3, 1),
                status="underway",
                created_at=datetime.now(AMSTERDAM),
                updated_at=datetime.now(AMSTERDAM),
            )
        )
    (planned,) = scan(core, "anna", "/scan plan 15-1-2027 14:00 Stadhuis Zwolle, zaal 2")
    assert planned.to_place
    assert planned.text == (
        "The follow-up meeting of scan 1 is on Friday 15 January 2027 at 14:00, Stadhuis "
        "Zwolle, zaal 2. 4 people at the table got an invitation; on 14 January 2027 they get "
        "the agenda with how each action stands."
    )
    for person in ("anna", "wim", "fatima", "bram"):
        (invited,) = inbox(core, person, kind="scan_meeting")
        assert "follow-up meeting of the Participatiescan" in invited.payload["text"]
        assert "Where: Stadhuis Zwolle, zaal 2" in invited.payload["lines"]
    assert inbox(core, "lotte", kind="scan_meeting") == []
    # moved to a Tuesday: the agenda comes on the Monday at the reminder hour, once
    scan(core, "anna", "/scan plan 19-1-2027 10:00 Stadhuis Zwolle")
    frozen.move_to(datetime(2027, 1, 18, 8, 59, tzinfo=AMSTERDAM))
    run_sweep(core)  # the task of the first date does nothing: the meeting moved
    assert len(inbox(core, "wim", kind="scan_meeting")) == 2
    assert "has moved" in inbox(core, "wim", kind="scan_meeting")[1].payload["text"]
    frozen.move_to(datetime(2027, 1, 18, 9, 1, tzinfo=AMSTERDAM))
    run_sweep(core)
    run_sweep(core)
    for person in ("anna", "wim", "fatima", "bram"):
        sent = inbox(core, person, kind="scan_meeting")
        assert len(sent) == 3, person
        agenda = sent[-1].payload
        assert (
            agenda["title"] == "Agenda of the follow-up meeting, Tuesday 19 January 2027 at 10:00"
        )
        assert any(
            "Werkgevers één loket geven" in x and "(under way)" in x for x in agenda["lines"]
        )


def test_a_second_scan_starts_from_the_first_and_compares(core: Core) -> None:
    first = scan(core, "anna", "/scan start")
    assert not any("Last time at the table" in (r.title or "") for r in first)
    for person, group in (("wim", "school"), ("fatima", "care"), ("bram", "other")):
        scan(core, "anna", f"/scan group {person} {group}")
    for person, value in zip(VOTERS[:2], [4, 6], strict=True):
        vote(core, person, mark(voting(first), value))
    confirmed(core, "/scan next", "anna")
    message = voting(confirmed(core, "/scan next", "anna"))
    vote(core, "wim", mark(message, 3))
    stop(core, "anna")
    with session_scope(core.engine) as session:
        for text, status in (("Stageplekken bundelen", "stuck"), ("Werkgeversavond", "done")):
            session.add(
                ScanAction(
                    session_id=1,
                    factor=1,
                    text=text,
                    owner_id="wim",
                    due=date(2027, 3, 1),
                    status=status,
                    created_at=datetime.now(AMSTERDAM),
                    updated_at=datetime.now(AMSTERDAM),
                )
            )
    opened = scan(core, "anna", "/scan start")
    review = next(r for r in opened if (r.title or "").startswith("Where the agenda of scan 1"))
    assert review.to_place and "1 of 2 actions are done. These are not done yet:" in review.text
    assert review.lines == [
        "1. Learning by working: Stageplekken bundelen — owner Wim Jansen, by 1 March 2027 (stuck)"
    ]
    offer = next(r for r in opened if r.title == "Last time at the table (scan 1)")
    assert offer.lines == [
        "Schools: Wim Jansen",
        "Care: Fatima El Amrani",
        "Other: Bram Bakker",
    ]
    same = next(b.action for b in offer.buttons if b.label == "Same table")
    assert vote(core, "wim", same)[0].error  # only the facilitator seats
    pressed = vote(core, "anna", same)
    assert pressed[0].updates == offer.updates and pressed[0].buttons == []
    assert "Schools: Wim Jansen" in pressed[1].lines
    assert "Not yet at the table: Social services" in pressed[1].text
    for person, value in zip(VOTERS[:2], [7, 8], strict=True):
        vote(core, person, mark(voting(opened), value))
    scan(core, "anna", "/scan close")  # a question's result shows once it is closed
    results = scan(core, "anna", "/scan results")[0]
    assert "change since the previous scan: +2.5" in all_text([results])
    confirmed(core, "/scan next", "anna")
    vote(core, "wim", mark(voting(confirmed(core, "/scan next", "anna")), 6))
    compared = scan(core, "bram", "/scan compare 2 1")[0]
    assert compared.title == "Scan 2 (23 November 2026) compared with scan 1 (23 November 2026)"
    assert compared.lines[:2] == [
        "Warm-up: 5.0 → 7.5 (+2.5)",
        "2. Professional relationship with employers: 3.0 → 6.0 (+3.0)",
    ]
    assert compared.image_png is not None and compared.image_png.startswith(b"\x89PNG")
    for bad in ("/scan compare 1", "/scan compare 1 1", "/scan compare 1 9"):
        assert scan(core, "bram", bad)[0].error


def test_the_chart_marks_the_previous_scan_beside_each_factor() -> None:
    """The chart of a comparison is the theme chart with the earlier scan's bars (the chart
    itself is tested in test_scan_content)."""
    from bot.core.i18n import translator
    from bot.core.scan.results import Result, figure

    shown = [("1. Werkend leren", Result(1, 6.0, 1.0, 5)), ("2. Relatie", Result(2, 4.0, 0.5, 5))]
    plain = figure(translator("en"), shown, title="Scan 2")
    compared = figure(translator("en"), shown, title="Scan 2", previous={1: Result(1, 5.0, 0, 4)})
    assert plain.legends == []
    (legend,) = compared.legends
    assert [x.get_text() for x in legend.get_texts()] == ["previous scan"]
    bars = compared.axes[0].patches
    assert len(bars) == len(plain.axes[0].patches) + 1  # one earlier bar: factor 2 was not marked


def cli(core: Core, database_url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> object:
    from typer.testing import CliRunner

    from bot.__main__ import app

    for name in list(os.environ):
        if name.startswith(("SLACK_", "TELEGRAM_", "VANGNET_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("bot.runtime.build_core", lambda settings, *_a, **_k: core)
    return CliRunner().invoke(app, list(args))


def test_the_csv_opens_in_dutch_excel_as_columns(
    core: Core, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dutch = Core(engine=core.engine, region=core.region, default_language="nl")
    first = voting(scan(dutch, "anna", "/scan start"))
    vote(dutch, "wim", mark(first, 4))
    stop(dutch, "anna")
    theme_1(dutch, scan(dutch, "anna", "/scan start"))
    add_action(dutch, 4, '=HYPERLINK("http://x";"klik")', "wim", "2027-03-01")
    stop(dutch, "anna")
    result = cli(core, database_url, monkeypatch, "scan", "export", "2", "--csv")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text: str = result.stdout  # type: ignore[attr-defined]
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with its byte order mark
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0] == ["onderdeel", "factor", "titel", "gemiddelde", "spreiding", "stemmen",
                       "vorige scan", "verschil"]  # fmt: skip
    warmup = rows[1]
    assert warmup == ["resultaat", "0", "Opwarmvraag", "6,00", "0,63", "5", "4,00", "+2,00"]
    assert rows[3][3:6] == ["5,00", "0,89", "5"] and rows[3][6:] == ["", ""]
    assert all(row[-1] for row in rows if row[0] == "onderdeel")  # no empty column at the end
    action = rows[-1]
    assert action[:2] == ["actie", "4"]
    assert action[2] == '\'=HYPERLINK("http://x";"klik")'  # shown as text, never run
    assert action[3:6] == ["Wim Jansen", "2027-03-01", "open"]


def test_a_scan_report_is_a_pdf_for_the_minutes(
    core: Core, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = voting(scan(core, "anna", "/scan start"))
    vote(core, "wim", mark(first, 4))
    stop(core, "anna")
    opened = scan(core, "anna", "/scan start")
    scan(core, "anna", "/scan group wim school")
    scan(core, "anna", "/scan group fatima care")
    theme_1(core, opened)
    add_action(core, 4, "Werkgevers één loket geven", "wim", "2027-03-01")
    stop(core, "anna")
    (made,) = scan(core, "bram", "/scan report")
    assert made.to_place and made.file is not None and made.file.startswith(b"%PDF")
    assert made.file_name == "participatiescan-2-2026-11-23.pdf"
    text = pdf_text(made.file)
    for said in (
        "Participatiescan — Regio Zwolle",
        "Scan 2 · 23 November 2026 · facilitator Anna de Vries",
        "Who was at the table",
        "Schools",
        "Wim Jansen",
        "Care",
        "Fatima El Amrani",
        "Focus on work and talent",
        "scan 1 of 23 November 2026",
        "The weakest factors and what helps",
        "Improvement agenda",
        "Werkgevers één loket geven",
        "1 March 2027",
    ):
        assert said in text, said
    out = tmp_path / "verslag.pdf"
    result = cli(core, database_url, monkeypatch, "scan", "report", "2", "--output", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert out.read_bytes().startswith(b"%PDF") and str(out) in result.stdout  # type: ignore[attr-defined]
    missing = cli(core, database_url, monkeypatch, "scan", "report", "9")
    assert missing.exit_code == 1  # type: ignore[attr-defined]


def theme_1(core: Core, opened: list[Reply]) -> list[Reply]:
    """The warm-up and factors 1-5 of the scan just opened, with the marks of test_scan."""
    from tests.core.scan.test_scan import THEME_1

    message = voting(opened)
    for person, value in zip(VOTERS, [6, 7, 5, 6, 6], strict=True):
        vote(core, person, mark(message, value))
    for number in range(1, 6):
        message = voting(confirmed(core, "/scan next", "anna"))
        for person, value in zip(VOTERS, THEME_1[number], strict=True):
            vote(core, person, mark(message, value))
    return confirmed(core, "/scan next", "anna")


def test_the_previous_table_marking_ahead_gets_the_questions(core: Core) -> None:
    scan(core, "anna", "/scan start")
    scan(core, "anna", "/scan group wim schools")
    stop(core, "anna")
    opened = scan(core, "anna", "/scan start async 3")
    offer = next(r for r in opened if r.title == "Last time at the table (scan 1)")
    assert inbox(core, "wim", kind="scan_ahead") == []
    scan(core, "anna", "/scan start")  # already open: changes nothing
    vote(core, "anna", next(b.action for b in offer.buttons if b.label == "Same table"))
    sent = inbox(core, "wim", kind="scan_ahead")
    assert "invites you to give your marks" in sent[0].payload["text"]
    assert sent[1].payload["title"] == "Warm-up question"
    again = vote(core, "anna", offer.buttons[0].action)  # pressed twice: seated once
    assert again[1].lines == ["Schools: Wim Jansen"]
    assert len(inbox(core, "wim", kind="scan_ahead")) == 2
