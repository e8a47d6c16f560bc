"""The Participatiescan as a real meeting, start to finish: twelve people at the table (four of
them guests from outside the directory), all fifteen factors, an interrupted stop resumed, the
agenda with a guest as owner, the follow-up meeting, the PDF report, and a second scan that
starts from the first and compares with it (issue 23's "done means")."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from bot.core import clock
from bot.core.app import Core
from bot.core.replies import Reply
from tests.core.scan.test_scan import all_text, confirmed, mark, scan, stop, vote, voting
from tests.core.scan.test_scan_after import pdf_text
from tests.core.scan.test_scan_table import guest_id
from tests.factories import inbox

MEMBERS = {  # the directory's people at the table, and their group
    "wim": "sociale dienst",
    "fatima": "werkbedrijf",
    "bram": "sociale dienst",
    "lotte": "overig",
    "sara": "scholen",
    "ilse": "scholen",
    "dirk": "RMC",
    "henk": "werkbedrijf",
}
GUESTS = {
    "Karin Bos": "werkgevers",
    "Piet de Wit": "UWV",
    "Els Smit": "zorg",
    "Ahmed Yilmaz": "SBB",
}


def marks_of(factor: int, voter: int) -> int:
    """A spread of marks per factor: some factors weak, some strong, never all alike."""
    return max(1, min(10, 3 + (factor * 7 + voter * 3) % 7 + (factor % 3)))


def vote_all(core: Core, voters: list[str], message: Reply, factor: int) -> None:
    for n, person in enumerate(voters):
        answer = vote(core, person, mark(message, marks_of(factor, n)))
        assert not answer[0].error, (person, answer[0].text)


def choose_first_point(core: Core, replies: list[Reply], owner: str, due: str) -> None:
    points = next(r for r in replies if any(b.action.startswith("sc:") for b in r.buttons))
    factor = next(b.action for b in points.buttons if b.action.startswith("sc:")).split(":")[2]
    scan(core, "anna", f"/scan choose {factor}")
    for answer in (f"Afspraken over factor {factor} vastleggen", owner, due, "confirm"):
        said = core.handle_text(person_id="anna", text=answer, transport="test")
        assert not any(r.error for r in said), said


def test_twelve_people_fifteen_factors_an_agenda_a_resumed_stop_and_a_second_scan(
    core: Core,
) -> None:
    opened = scan(core, "anna", "/scan start")
    for person, group in MEMBERS.items():
        assert not scan(core, "anna", f"/scan group {person} {group}")[-1].error
    for name, group in GUESTS.items():
        assert not scan(core, "anna", f"/scan guest {name} {group}")[0].error
    voters = [*MEMBERS, *(guest_id(core, name) for name in GUESTS)]
    assert len(voters) == 12
    table = scan(core, "anna", "/scan guest Karin Bos werkgevers")  # once is enough: reused
    assert guest_id(core, "Karin Bos") in voters and not table[0].error

    vote_all(core, voters, voting(opened), 0)
    due = (clock.today(core.region.tz) + timedelta(days=200)).isoformat()
    chosen = 0
    for factor in range(1, 16):
        step = confirmed(core, "/scan next")
        if not any(r.buttons and r.buttons[0].action.startswith("sv:") for r in step):
            # a theme ended: its results, the proposed points; one is chosen, then on
            owner = "Karin Bos" if chosen == 0 else "wim"
            choose_first_point(core, step, owner, due)
            chosen += 1
            step = confirmed(core, "/scan next")
        message = voting(step)
        assert f"Factor {factor} of 15" in (message.title or "")
        vote_all(core, voters, message, factor)
        if factor == 7:  # the meeting is interrupted, and goes on where it was
            stop(core)
            assert scan(core, "anna", "/scan next")[0].error  # stopped: nothing open
            resumed = scan(core, "anna", "/scan resume")
            assert "The scan goes on where it was." in all_text(resumed)
            assert "Factor 7 of 15" in (voting(resumed).title or "")
    end = confirmed(core, "/scan next")  # the last theme's results and points
    choose_first_point(core, end, "bram", due)
    chosen += 1
    ended = stop(core)
    agenda = all_text(ended)
    assert chosen == 3 and "Improvement agenda" in agenda
    assert "owner Karin Bos" in agenda  # a guest owns an action
    assert len(inbox(core, guest_id(core, "Karin Bos"), kind="scan_agenda")) == 1

    # the follow-up meeting: everyone at the table is invited
    day = clock.today(core.region.tz) + timedelta(days=60)
    planned = scan(core, "anna", f"/scan plan {day.day}-{day.month}-{day.year} 14:00 Stadhuis")
    assert not planned[0].error, planned
    for person in [*voters, "anna"]:
        assert inbox(core, person, kind="scan_meeting"), person

    # the report for the minutes: all fifteen factors, the table by group, the agenda
    report = scan(core, "anna", "/scan report")
    pdf = next(r.file for r in report if r.file)
    assert pdf is not None and pdf.startswith(b"%PDF")
    words = pdf_text(pdf)
    for expected in ("Karin Bos", "Employers", "15. ", "Improvement agenda", "Wim Jansen"):
        assert expected in words, expected
    if os.environ.get("VANGNET_SCAN_REPORT"):  # to look at it: the PDF where it says
        Path(os.environ["VANGNET_SCAN_REPORT"]).write_bytes(pdf)

    # a second scan in the same place starts from the first: its table, its agenda, compared
    second = scan(core, "anna", "/scan start")
    offer = next(r for r in second if any(b.action.endswith(":same") for b in r.buttons))
    assert "Where the agenda of scan 1" in all_text(second)
    same = next(b.action for b in offer.buttons if b.action.endswith(":same"))
    seated = vote(core, "anna", same)
    assert "Karin Bos" in all_text(seated) and "Wim Jansen" in all_text(seated)
    vote_all(core, voters, voting(second), 3)
    confirmed(core, "/scan close")
    compared = scan(core, "anna", "/scan compare 1 2")[0]
    assert compared.lines[0].startswith("Warm-up: ") and "→" in compared.lines[0]
