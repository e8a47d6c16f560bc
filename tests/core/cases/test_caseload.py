"""Real caseloads (issue 13): finding a case, filtering /leavers and /cases, the broker's queue,
correcting a leaver with /edit, and the terminal demo's clock."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.core.vocab import CaseState
from bot.handlers.terminal import TerminalChat
from bot.store.db import session_scope
from bot.store.models import Task
from tests.factories import case, inbox, make_leaver, one, press, say, text_of, trail

AMS = ZoneInfo("Europe/Amsterdam")


def chat(terminal: TerminalChat, script: str) -> str:
    out = terminal.stdout
    assert isinstance(out, io.StringIO)
    before = len(out.getvalue())
    for line in script.splitlines():
        terminal.handle(line)
    return out.getvalue()[before:]


def terminal(core: Core) -> TerminalChat:
    return TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)


# --- /find ---------------------------------------------------------------------------------


def test_find_by_case_reference_student_reference_and_name(core: Core) -> None:
    c = make_leaver(core, student_ref="DB-2044", consent="given", name="Jesse Voorbeeld")
    other = make_leaver(core, student_ref="DB-2050")
    for text, how in (
        (c.ref.lower(), "found by case reference"),
        ("db 2044", "found by student reference"),
    ):
        reply = one(say(core, "anna", f"/find {text}"))
        assert [b.action for b in reply.buttons] == [f"case:{c.ref}"], text
        assert how in text_of(reply)
    reply = one(say(core, "sara", "/find jesse voorb"))
    assert [b.action for b in reply.buttons] == [f"case:{c.ref}"]
    assert "found by name" in text_of(reply) and "Jesse" not in text_of(reply)
    both = one(say(core, "sara", "/find DB-20"))
    assert {b.action for b in both.buttons} == {f"case:{c.ref}", f"case:{other.ref}"}
    assert "2 cases found" in text_of(both)


def test_a_school_contact_never_finds_another_schools_leaver(core: Core) -> None:
    c = make_leaver(
        core, school="kompas", by="joost", student_ref="KO-7", consent="given", name="Noa Kers"
    )
    for text in (c.ref, "KO-7", "Noa", "Kers"):
        reply = one(say(core, "sara", f"/find {text}"))
        assert reply.buttons == [] and "Nothing found" in reply.text, text
    assert one(say(core, "joost", "/find Noa")).buttons[0].action == f"case:{c.ref}"


def test_names_are_not_searched_in_a_channel_nor_without_consent(core: Core) -> None:
    make_leaver(core, student_ref="X-1", consent="given", name="Jesse Voorbeeld")
    in_channel = one(say(core, "anna", "/find Jesse", private=False))
    assert in_channel.buttons == [] and "only searched in a private chat" in in_channel.text
    make_leaver(core, student_ref="X-2", consent="refused")
    assert one(say(core, "anna", "/find X-2")).buttons  # the reference is still found


def test_find_without_text_says_how(core: Core) -> None:
    reply = one(say(core, "sara", "/find"))
    assert reply.error and "/find TEXT" in reply.text


# --- filters and the coordinator's overview ------------------------------------------------


def test_leavers_filtered_by_state_and_municipality_in_dutch_or_english(core: Core) -> None:
    due = make_leaver(core, home_municipality="Zwolle", early_leaver="yes", expected_exit="2026-11")
    later = make_leaver(core, home_municipality="Zwolle")
    kampen = make_leaver(core, home_municipality="Kampen")
    refs = lambda reply: {b.action for b in reply.buttons}  # noqa: E731
    assert refs(one(say(core, "sara", "/leavers open Zwolle"))) == {
        f"case:{due.ref}",
        f"case:{later.ref}",
    }
    assert refs(one(say(core, "sara", "/leavers zwolle TE CLAIMEN"))) == {f"case:{due.ref}"}
    assert refs(one(say(core, "sara", "/leavers forecast kampen"))) == {f"case:{kampen.ref}"}
    assert refs(one(say(core, "anna", "/leavers brug due"))) == {f"case:{due.ref}"}
    title = one(say(core, "sara", "/leavers open Zwolle")).title or ""
    assert "Zwolle" in title


def test_a_word_that_is_no_filter_is_refused_with_the_syntax(core: Core) -> None:
    make_leaver(core)
    reply = one(say(core, "sara", "/leavers Amsterdamm"))
    assert reply.error and 'understand "Amsterdamm"' in reply.text
    assert "/leavers open Zwolle" in reply.text


def test_the_coordinator_sees_counts_per_municipality_first(core: Core) -> None:
    make_leaver(core, home_municipality="Zwolle", early_leaver="yes", expected_exit="2026-11")
    make_leaver(core, home_municipality="Zwolle")
    make_leaver(core, home_municipality="Kampen")
    reply = one(say(core, "anna", "/leavers"))
    assert reply.title == "Leavers per municipality"
    assert "Zwolle: 2 leavers · 2 open · 1 due" in reply.lines
    assert "Kampen: 1 leaver · 1 open · 0 due" in reply.lines
    kampen = next(b for b in reply.buttons if b.label == "Kampen")
    listed = one(press(core, "anna", kampen.action))
    assert len(listed.lines) == 1 and "Kampen" in (listed.title or "")


def test_the_more_button_keeps_the_filter(core: Core) -> None:
    for _ in range(17):
        make_leaver(core, home_municipality="Zwolle")
    make_leaver(core, home_municipality="Kampen")
    first = one(say(core, "sara", "/leavers zwolle"))
    assert "Page 1 of 2" in first.text
    more = first.buttons[-1]
    second = one(press(core, "sara", more.action))
    assert "Page 2 of 2" in second.text and len(second.lines) == 2
    assert "Kampen" not in " ".join(second.lines)


# --- the broker's queue --------------------------------------------------------------------


def test_the_queue_shows_working_days_waited_overdue_and_transfers(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    old = make_leaver(core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11")
    frozen.move_to(datetime(2026, 11, 30, 10, 0, tzinfo=AMS))
    new = make_leaver(core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11")
    came = make_leaver(
        core, home_municipality="Zwolle", early_leaver="yes", expected_exit="2026-11"
    )
    say(core, "wim", f"/transfer {came.ref} @bram")
    frozen.move_to(datetime(2026, 12, 3, 10, 0, tzinfo=AMS))  # Thursday
    reply = one(say(core, "bram", "/cases"))
    lines = {line.split(" · ")[0]: line for line in reply.lines}
    assert "waited 8 working days" in lines[old.ref] and "OVERDUE" in lines[old.ref]
    assert "waited 3 working days" in lines[new.ref] and "OVERDUE" not in lines[new.ref]
    assert "transferred to you" in lines[came.ref]
    assert reply.lines[0].startswith(old.ref)  # longest waiting first
    overdue = one(say(core, "bram", "/cases te laat"))
    assert [b.action for b in overdue.buttons] == [f"case:{old.ref}"]


def test_the_queue_shows_open_follow_ups_with_their_dates(core: Core) -> None:
    c = make_leaver(core, home_municipality="Zwolle", early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    say(core, "wim", f"/placed {c.ref}")
    for answer in ("work", "Bakkerij Brood", "2026-12-01"):
        say(core, "wim", answer)
    say(core, "wim", "confirm")
    assert case(core, c.ref).state == CaseState.placed
    line = one(say(core, "wim", "/cases mine")).lines[0]
    assert "follow-up 1 due 31 Dec 2026" in line


# --- /edit ---------------------------------------------------------------------------------


def test_edit_opens_the_form_filled_in_and_shows_the_changes(core: Core) -> None:
    c = make_leaver(core, student_ref="JV-1", home_municipality="Zwolle", expected_exit="2027-06")
    summary = one(say(core, "sara", f"/edit {c.ref}"))
    assert f"correcting case {c.ref}" in summary.text and "Nothing changes yet" in summary.text
    assert any(f.value == "JV-1" for f in summary.fields)
    edit = next(b for b in summary.buttons if b.label == "Edit")
    field = next(
        b for b in one(press(core, "sara", edit.action)).buttons if b.label == "Student reference"
    )
    press(core, "sara", field.action)
    summary = one(say(core, "sara", "JV-11"))
    assert "Student reference: JV-1 → JV-11" in summary.text
    done = one(say(core, "sara", "confirm"))
    assert f"Case {c.ref} is corrected" in done.text
    assert case(core, c.ref).student_ref == "JV-11"
    events = [e for e in trail(core, c.ref) if e.action == "correct"]
    assert len(events) == 1 and events[0].detail["fields"] == ["student_ref"]


def test_a_new_home_municipality_reroutes_and_tells_who_had_the_card(core: Core) -> None:
    c = make_leaver(core, home_municipality="Zwolle", early_leaver="yes", expected_exit="2026-11")
    assert inbox(core, "wim", kind="due")
    say(core, "sara", f"/edit {c.ref}")
    edit_field(core, "sara", "Home municipality")
    summary = one(say(core, "sara", "Kampen"))
    assert "moves to the brokers of the new home municipality" in summary.text
    done = one(say(core, "sara", "confirm"))
    assert "now with the brokers of Kampen" in done.text
    after = case(core, c.ref)
    assert after.responsible_municipality_code == "GM0166"
    assert inbox(core, "wim", kind="rerouted") and inbox(core, "bram", kind="due")


def test_a_later_exit_date_replans_when_the_case_goes_to_the_brokers(core: Core) -> None:
    c = make_leaver(core, expected_exit="2027-06")
    say(core, "sara", f"/edit {c.ref}")
    edit_field(core, "sara", "Expected exit")
    say(core, "sara", "2027-09")
    done = one(say(core, "sara", "confirm"))
    assert "goes to the brokers on" in done.text
    with session_scope(core.engine) as session:
        planned = session.exec(
            select(Task).where(Task.case_ref == c.ref, Task.kind == "window_open")
        ).all()
        days = {t.due_at.astimezone(AMS).date() for t in planned}
    assert date(2027, 6, 2) in days  # 13 weeks before 1 September 2027


def test_an_earlier_exit_date_makes_the_case_due_at_once(core: Core) -> None:
    c = make_leaver(core, home_municipality="Kampen", expected_exit="2027-06")
    say(core, "sara", f"/edit {c.ref}")
    edit_field(core, "sara", "Expected exit")
    say(core, "sara", "2027-01")
    say(core, "sara", "confirm")
    assert case(core, c.ref).state == CaseState.due
    assert inbox(core, "bram", kind="due")


def test_a_due_case_stays_due_when_its_exit_moves_later(core: Core) -> None:
    """product.md has no way back from due to forecast: the brokers were asked already."""
    c = make_leaver(core, home_municipality="Kampen", expected_exit="2027-01")
    assert case(core, c.ref).state == CaseState.due  # the window opened in October
    say(core, "sara", f"/edit {c.ref}")
    edit_field(core, "sara", "Expected exit")
    say(core, "sara", "2027-09")
    done = one(say(core, "sara", "confirm"))
    assert "It is with the brokers now." in done.text
    after = case(core, c.ref)
    assert after.state == CaseState.due and after.expected_exit == date(2027, 9, 1)


def test_showing_personal_details_to_correct_them_is_audited(core: Core) -> None:
    c = make_leaver(core, consent="given", name="Jesse Voorbeeld")
    summary = one(say(core, "sara", f"/edit {c.ref}"))
    assert any(f.value == "Jesse Voorbeeld" for f in summary.fields)
    assert "view_personal" in [e.action for e in trail(core, c.ref)]


def test_edit_refusals(core: Core) -> None:
    c = make_leaver(core, home_municipality="Zwolle", early_leaver="yes", expected_exit="2026-11")
    assert "not for your role" in one(say(core, "wim", f"/edit {c.ref}")).text
    assert "no case" in one(say(core, "joost", f"/edit {c.ref}")).text
    say(core, "wim", f"/claim {c.ref}")
    refused = one(say(core, "sara", f"/edit {c.ref}"))
    assert refused.error and "taken over by Wim Jansen" in refused.text
    assert not one(say(core, "anna", f"/edit {c.ref}")).error  # the coordinator always


def test_a_student_reference_already_in_use_is_refused(core: Core) -> None:
    make_leaver(core, student_ref="AB-1")
    c = make_leaver(core, student_ref="AB-2")
    say(core, "sara", f"/edit {c.ref}")
    edit_field(core, "sara", "Student reference")
    say(core, "sara", "AB-1")
    refused = one(say(core, "sara", "confirm"))
    assert refused.error and "already case" in refused.text
    assert case(core, c.ref).student_ref == "AB-2"


def edit_field(core: Core, person: str, label: str) -> None:
    buttons = one(say(core, person, "wijzigen")).buttons  # typed, as the button says
    press(core, person, next(b for b in buttons if b.label == label).action)


# --- the demo clock ------------------------------------------------------------------------


def test_the_demo_clock_drives_a_forecasting_round_and_a_digest(core: Core) -> None:
    chat_ = terminal(core)
    out = chat(chat_, "/as anna\n/clock 2027-03-01\n")
    assert "2027-03-01 12:00" in out
    assert "A forecasting round started" in out
    assert "The weekly digest was sent 14 times" in out  # 30 Nov 2026 … 1 Mar 2027
    assert inbox(core, "sara", kind="round")
    assert inbox(core, "anna", kind="digest")
    assert clock.today(AMS) == date(2027, 3, 1)


def test_the_demo_clock_runs_reminders_and_escalations_on_the_way(core: Core) -> None:
    c = make_leaver(core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11")
    out = chat(terminal(core), "/as bram\n/clock +10d\n")
    assert f"Reminder: case {c.ref} has waited 3 working days" in out
    assert inbox(core, "anna", kind="escalation")


def test_the_demo_clock_never_goes_back_and_says_how(core: Core) -> None:
    chat_ = terminal(core)
    assert "never goes back" in chat(chat_, "/as anna\n/clock 2020-01-01\n")
    assert "never goes back" in chat(chat_, "/clock -3d\n")
    assert "/clock +3d" in chat(chat_, "/clock soon\n")
    assert clock.ahead().total_seconds() == 0


def test_the_moved_clock_survives_a_restart_of_the_demo(core: Core) -> None:
    chat(terminal(core), "/as anna\n/clock +3d\n")
    moved = clock.now()
    clock.set_ahead(clock.ahead() * 0)  # a new process starts with real time
    again = terminal(core)
    again.intro()
    assert "moved earlier" in again.stdout.getvalue()  # type: ignore[attr-defined]
    assert abs((clock.now() - moved).total_seconds()) < 1


def test_the_clock_is_not_moved_on_a_database_a_platform_sent_from(core: Core) -> None:
    make_leaver(core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11")
    core.deliver(person_id="bram", via="slack", send=lambda reply: True)
    out = chat(terminal(core), "/as anna\n/clock +3d\n")
    assert "sent messages through Slack or Telegram" in out
    assert clock.ahead().total_seconds() == 0


def test_clock_is_not_a_command_of_a_real_platform(core: Core) -> None:
    reply = one(say(core, "anna", "/clock +3d"))
    assert reply.error and "only works in the terminal demo" in reply.text
    assert clock.ahead().total_seconds() == 0


def test_the_welcome_text_tells_about_the_clock(core: Core) -> None:
    chat_ = terminal(core)
    chat_.intro()
    assert re.search(r"/clock \+3d", chat_.stdout.getvalue())  # type: ignore[attr-defined]


def test_help_and_usage_show_the_filter_syntax(core: Core) -> None:
    help_text = text_of(one(say(core, "wim", "/help")))
    assert "/cases [state] [overdue] [mine] [municipality] [school] [page]" in help_text
    assert "for example /leavers open Zwolle" in help_text
    assert "/find TEXT" in help_text and "/edit" not in help_text  # not for a broker
    assert "/edit REF" in text_of(one(say(core, "sara", "/help")))


def test_mine_and_a_broker_outside_the_scope(core: Core) -> None:
    mine = make_leaver(core, by="sara", student_ref="M-1")
    make_leaver(core, school="kompas", by="joost", student_ref="M-2")
    listed = one(say(core, "anna", "/leavers mijn"))
    assert listed.lines == [] or mine.ref not in " ".join(listed.lines)
    assert [b.action for b in one(say(core, "sara", "/leavers mijn")).buttons] == [
        f"case:{mine.ref}"
    ]
    assert one(say(core, "henk", f"/find {mine.ref}")).buttons == []  # Hardenberg's broker


def test_edit_again_offers_to_continue_or_start_from_the_case_as_it_is(core: Core) -> None:
    c = make_leaver(core, student_ref="JV-5")
    say(core, "sara", f"/edit {c.ref}")
    edit_field(core, "sara", "Student reference")
    say(core, "sara", "JV-55")
    asked = one(say(core, "sara", f"/edit {c.ref}"))
    assert "had not finished" in asked.text
    fresh = one(press(core, "sara", "form:again"))
    assert any(f.value == "JV-5" for f in fresh.fields) and "Nothing changes yet" in fresh.text
