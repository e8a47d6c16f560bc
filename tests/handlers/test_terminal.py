"""The terminal chat, driven through standard input as a person would type."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from bot.core.app import Core
from bot.core.replies import Button, Item, Reply
from bot.core.sweeps import run_rounds
from bot.handlers.terminal import TerminalChat, render
from tests.conftest import TEST_KEY
from tests.factories import case, inbox, make_leaver

ROOT = Path(__file__).resolve().parents[2]


def chat(core: Core, script: str, terminal: TerminalChat | None = None) -> str:
    """Type `script` line by line; `terminal` continues an earlier session."""
    if terminal is None:
        terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    out = terminal.stdout
    assert isinstance(out, io.StringIO)
    before = len(out.getvalue())
    for line in script.splitlines():
        if not terminal.handle(line):
            break
    return out.getvalue()[before:]


def number(out: str, label: str) -> str:
    """The number the terminal gave the last button called `label`."""
    found = re.findall(rf"\[(\d+)\] {re.escape(label)}(?:  |$)", out, flags=re.MULTILINE)
    assert found, f"no button {label!r} in:\n{out}"
    return str(found[-1])


def test_vangnet_run_with_piped_input_shows_cases_moving(database_url: str, tmp_path: Path) -> None:
    """`vangnet run` with nothing configured: demo region, act as three people, see it move."""
    script = "\n".join(
        [
            "/as bram",  # broker of Kampen; the demo has an urgent early leaver for him
            "/cases",  # after Bram's two pings, [1]–[6]: the queue is [7] and [8]
            "7",  # the first case of the queue: the urgent one
            "9",  # its Claim button
            "/as Mila",  # the school contact who registered that leaver (by name)
            "/as anna",
            "/leavers",
            "/quit",
            "/as nobody-after-quit",
        ]
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "VANGNET_"))
    }
    env["DATABASE_URL"] = database_url
    env["VANGNET_SECRET_KEY"] = TEST_KEY.decode()  # the key the test database was made with
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Bram Bakker" in out and "Anna de Vries" in out
    assert "You now own case" in out  # Bram speaks English in the demo region
    # Mila (English too) finds the message the bot sent her while we were Bram.
    after_mila = out.split("Mila Bos", 1)[1]
    assert "was taken over by Bram Bakker" in after_mila
    assert "nobody-after-quit" not in out


def test_numbers_press_the_buttons_shown(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    out = chat(core, f"/as wim\n/case {c.ref}\n", terminal)
    chat(core, number(out, "Claim") + "\n", terminal)
    assert case(core, c.ref).owner_id == "wim"


def test_buttons_of_an_earlier_message_can_still_be_pressed(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    frozen.move_to(datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))
    run_rounds(core)  # Sara is asked for her list, with a "My list is complete" button
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    out = chat(core, "/as sara\n", terminal)
    complete = number(out, "My list is complete")
    out = chat(core, "/leaver\nAB1\nZwolle\n", terminal)  # newer questions, newer buttons
    assert f"[{complete}]" not in out  # numbers are not given twice
    out = chat(core, complete + "\n", terminal)  # a bare number: the current question's only
    assert f"type #{complete} to press it" in out and "your list is complete" not in out
    out = chat(core, f"#{complete}\n", terminal)
    assert "your list is complete" in out
    frozen.move_to(datetime(2027, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam")))
    run_rounds(core)
    assert inbox(core, "sara", kind="round_reminder") == []  # the press counted


def test_a_number_typed_for_a_question_that_waits_for_text_is_the_answer(core: Core) -> None:
    """A student number or a year of birth that happens to be the number of an earlier button
    (after a scan session there are hundreds) is the answer, not a press of that button."""
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    out = chat(core, "/as sara\n/leaver\n", terminal)
    cancel = number(out, "Cancel")  # the first question's Cancel: a button shown now
    out = chat(core, f"{cancel}\nZwolle\n", terminal)  # student number {cancel}
    assert "Stopped" not in out and "Which programme" in out
    out = chat(core, f"{number(out, 'Praktijkonderwijs')}\n", terminal)
    assert "Is this an early leaver" in out  # a question with choices: the number presses
    out = chat(core, f"{number(out, 'No')}\n2027-06\n", terminal)
    assert "year of birth" in out
    terminal.next_button = 2009  # a long session: the next buttons are [2009] and on
    out = chat(core, "/help\n/leaver\n", terminal)
    out = chat(core, f"{number(out, 'Continue where I was')}\n", terminal)
    assert "[2009]" in terminal.stdout.getvalue() and "year of birth" in out
    out = chat(core, "2009\n", terminal)
    assert "What does the young person want after school?" in out
    out = chat(core, "#2009\n", terminal)  # a prefixed number is a button, even now
    assert "Continue where I was" not in out


def test_typing_a_buttons_label_presses_it(core: Core) -> None:
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    chat(core, "/as sara\n/leaver\nAB1\nZwolle\nPraktijkonderwijs\nno\n2027-06\n", terminal)
    out = chat(core, "skip\nskip\nnot asked\n", terminal)
    assert "Is this right?" in out
    out = chat(core, "Edit\n", terminal)
    assert "Which answer do you want to change?" in out
    out = chat(core, "home municipality\n", terminal)  # a field's label, as its button says
    assert "In which municipality or place (woonplaats) does the young person live?" in out
    out = chat(core, "Kampen\n", terminal)
    assert "Kampen" in out and "Is this right?" in out
    out = chat(core, "Confirm\n", terminal)
    assert "is registered as case" in out


def test_a_button_shown_to_someone_else_is_not_pressed_as_oneself(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    claim = number(chat(core, f"/as wim\n/case {c.ref}\n", terminal), "Claim")
    out = chat(core, f"/as anna\n{claim}\n", terminal)
    assert "/as wim" in out
    assert case(core, c.ref).owner_id is None


def test_after_a_restart_as_shows_the_unfinished_question_again(core: Core) -> None:
    chat(core, "/as sara\n/leaver\nAB1\nZwolle\n")
    restarted = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    out = chat(core, "/as sara\n", restarted)
    assert "Which programme does the young person follow?" in out
    out = chat(core, number(out, "Praktijkonderwijs") + "\n", restarted)
    assert "Is this an early leaver" in out  # the press was taken, the next question asked
    assert "!" not in out


def test_leaver_halfway_an_intake_asks_before_throwing_the_answers_away(core: Core) -> None:
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    chat(core, "/as sara\n/leaver\nAB1\nZwolle\n", terminal)
    out = chat(core, "/leaver\n", terminal)
    assert "Continue where I was" in out and "Start again" in out
    out = chat(core, number(out, "Continue where I was") + "\n", terminal)
    assert "Which programme does the young person follow?" in out
    out = chat(core, "/leaver\n", terminal)
    out = chat(core, number(out, "Start again") + "\n", terminal)
    assert "school's own reference" in out
    out = chat(core, "AB2\nKampen\n", terminal)
    assert "Which programme" in out


def test_a_number_beyond_the_buttons_is_text_not_a_press(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    chat(core, f"/as wim\n/case {c.ref}\n9\n")
    assert case(core, c.ref).owner_id is None


def test_as_needs_someone_in_the_directory(core: Core) -> None:
    out = chat(core, "/as mallory\n/leavers\n")
    assert "mallory" in out
    assert "── " not in out  # no list shown to nobody


def test_as_with_an_ambiguous_name_offers_a_choice(core: Core) -> None:
    out = chat(core, "/as de\n")  # Anna de Vries, Tim de Groot
    assert "Anna de Vries" in out and "Tim de Groot" in out and "[2]" in out


def test_messages_wait_for_their_person_and_are_shown_once(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    out = chat(core, f"/as wim\n/claim {c.ref}\n/as sara\n/as wim\n/as sara\n")
    sara_first = out.split("Sara Smit", 1)[1].split("Wim Jansen", 1)[0]
    assert c.ref in sara_first
    assert out.count("✉") == 2  # Wim's ping once, Sara's news once: nothing twice


def test_render_numbers_buttons_and_shows_fields() -> None:
    reply = Reply(
        title="Casus K7F2",
        fields=[Item(label="School", value="De Brug")],
        buttons=[
            Button(label="Claimen", action="claim:K7F2"),
            Button(label="Details", action="details:K7F2"),
        ],
    )
    assert render(reply, first_button=3).splitlines() == [
        "── Casus K7F2 ──",
        "  School: De Brug",
        "  [3] Claimen  [4] Details",
    ]


def test_upload_imports_a_csv_for_the_school_contacts_school(core: Core, tmp_path: Path) -> None:
    good = tmp_path / "leerlingen.csv"
    good.write_text(
        "leerling;woongemeente;onderwijs;uitstroomdatum\nAB1;Zwolle;pro;2027-06\nAB2;Kampen;pro;2027-07\n",
        encoding="utf-8",
    )
    out = chat(core, f"/as sara\n/upload {good}\n/leavers\n")
    assert "2 leavers added" in out and "AB1" in out and "AB2" in out
    out = chat(core, f"/as wim\n/upload {good}\n")
    assert "/leaver" in out  # not for a broker
    out = chat(core, f"/as sara\n/upload {tmp_path / 'nope.csv'}\n")
    assert "nope.csv" in out


def test_a_chart_is_saved_as_a_png_file_and_its_path_printed(core: Core, tmp_path: Path) -> None:
    make_leaver(core)
    charts = tmp_path / "charts"
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False, chart_dir=charts)
    out = chat(core, "/as anna\n/digest\n", terminal)
    (saved,) = charts.glob("*.png")
    assert str(saved) in out
    assert saved.read_bytes().startswith(b"\x89PNG")


def test_a_scan_in_the_terminal_with_voters_taking_turns(core: Core) -> None:
    """The terminal is one place: the facilitator opens, three people vote in turn via /as."""
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    out = chat(core, "/as anna\n/scan start", terminal)
    assert "Warm-up question" in out and "Votes so far: 0." in out
    chat(core, f"/as wim\n{number(out, '4')}", terminal)
    chat(core, f"/as bram\n{number(out, '8')}", terminal)
    changed = chat(core, f"/as wim\n{number(out, '6')}", terminal)  # wim changes his mark
    assert "Your mark is now 6" in changed and "Votes so far: 2." in changed
    closed = chat(core, "/as anna\n/scan close\n/scan results", terminal)
    assert "Voting closed: 2 votes." in closed
    assert "Warm-up: average 7.0 · spread 1.0 · 2 votes" in closed
    late = chat(core, f"/as lotte\n{number(out, '9')}", terminal)
    assert "! Voting on this question is closed" in late
    assert "Factor 1 of 15" in chat(core, "/as anna\n/scan next", terminal)


def test_a_scan_in_the_terminal_with_a_guest_a_seat_and_a_stop_resumed(core: Core) -> None:
    """A guest takes their turn with /as like everyone; a voter who is not seated taps their
    group; the stop asks first; /scan resume goes on where it was."""
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    out = chat(core, "/as anna\n/scan start\n/scan guest Karin Bos werkgevers", terminal)
    assert "Karin Bos sits at the table for Employers." in out
    voted = chat(core, f"/as Karin Bos\n{number(out, '7')}\n/leavers", terminal)
    assert "Your mark 7 is recorded" in voted and "/leavers is not for your role" in voted
    asked = chat(core, f"/as wim\n{number(out, '5')}", terminal)
    assert "For which group do you sit at the table?" in asked
    seated = chat(core, number(asked, "Care"), terminal)
    assert "Wim Jansen sits at the table for Care." in seated and "Care: Wim Jansen" in seated
    stopping = chat(core, "/as anna\n/scan stop", terminal)
    assert "You stop before the first factor; 15 factors to go and no agenda." in stopping
    stopped = chat(core, number(stopping, "Stop the scan"), terminal)
    assert "Warm-up: average 6.0 · spread 1.0 · 2 votes" in stopped
    resumed = chat(core, "/scan resume", terminal)
    assert "The scan goes on where it was." in resumed and "Votes so far: 2." in resumed
