"""The clock, frozen: windows opening, reminders over weekends and King's Day, escalation,
follow-ups and their answers."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine

from bot.core.app import Core
from bot.core.calendar import add_working_days, is_working_day
from bot.core.sweeps import run_sweep
from bot.core.vocab import CaseState
from bot.store.models import Case
from tests.factories import case, inbox, make_leaver, one, press, say

AMS = ZoneInfo("Europe/Amsterdam")


def at(traveller: time_machine.Coordinates, *args: int) -> None:
    """Move the frozen clock to a local Amsterdam time."""
    traveller.move_to(datetime(*args, tzinfo=AMS))


def test_working_days_skip_weekends_and_dutch_holidays() -> None:
    assert not is_working_day(date(2027, 4, 27))  # King's Day
    assert not is_working_day(date(2027, 5, 1))  # a Saturday
    assert is_working_day(date(2027, 4, 28))
    assert add_working_days(date(2027, 4, 23), 3) == date(2027, 4, 29)
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)  # Christmas


def test_the_handover_window_opens_exactly_on_its_day(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    c = make_leaver(core, expected_exit="2027-06")  # 13 weeks before 1 June 2027: 2 March
    at(frozen, 2027, 3, 1, 23, 59)
    run_sweep(core)
    assert case(core, c.ref).state == CaseState.forecast and inbox(core, "wim") == []
    at(frozen, 2027, 3, 2, 7, 0)
    run_sweep(core)
    assert case(core, c.ref).state == CaseState.due
    assert [m.kind for m in inbox(core, "wim")] == ["due"]
    run_sweep(core)  # a second sweep sends nothing new
    assert len(inbox(core, "wim")) == 1


def test_a_later_exit_moves_the_window(core: Core, frozen: time_machine.Coordinates) -> None:
    c = make_leaver(core, student_ref="AB1", expected_exit="2027-06")
    make_leaver(core, student_ref="AB1", expected_exit="2027-09")  # the school updates it
    at(frozen, 2027, 3, 2, 7, 0)
    run_sweep(core)
    assert case(core, c.ref).state == CaseState.forecast
    at(frozen, 2027, 6, 2, 7, 0)  # 13 weeks before 1 September
    run_sweep(core)
    assert case(core, c.ref).state == CaseState.due


def test_reminder_skips_the_weekend_and_kings_day_then_escalates(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    at(frozen, 2027, 4, 23, 10, 0)  # a Friday
    c = make_leaver(core, early_leaver="yes", expected_exit="2027-04")
    at(frozen, 2027, 4, 28, 23, 0)  # Mon 26 and Wed 28 are two working days; Tue 27 is not
    run_sweep(core)
    assert inbox(core, "wim", kind="reminder") == []
    at(frozen, 2027, 4, 29, 9, 0)
    run_sweep(core)
    assert len(inbox(core, "wim", kind="reminder")) == 1
    assert len(inbox(core, "fatima", kind="reminder")) == 1
    at(frozen, 2027, 5, 4, 23, 0)
    run_sweep(core)
    assert inbox(core, "anna", kind="escalation") == []
    at(frozen, 2027, 5, 5, 9, 0)  # the seventh working day
    run_sweep(core)
    (escalation,) = inbox(core, "anna", kind="escalation")
    assert c.ref in escalation.payload["text"]


def test_a_claimed_case_is_neither_reminded_nor_escalated(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    at(frozen, 2027, 4, 23, 10, 0)
    c = make_leaver(core, early_leaver="yes", expected_exit="2027-04")
    say(core, "wim", f"/claim {c.ref}")
    at(frozen, 2027, 6, 1, 9, 0)
    run_sweep(core)
    assert inbox(core, "wim", kind="reminder") == []
    assert inbox(core, "anna") == []


def test_a_transfer_starts_the_reminders_again(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    at(frozen, 2027, 4, 23, 10, 0)
    c = make_leaver(core, early_leaver="yes", expected_exit="2027-04")
    at(frozen, 2027, 4, 28, 10, 0)
    say(core, "wim", f"/transfer {c.ref} Kampen")
    at(frozen, 2027, 4, 29, 9, 0)  # Wim's reminder would have been now: the case moved on
    run_sweep(core)
    assert inbox(core, "wim", kind="reminder") == [] and inbox(core, "bram", kind="reminder") == []
    at(frozen, 2027, 5, 3, 9, 0)  # three working days after the transfer: 29, 30, 3
    run_sweep(core)
    assert len(inbox(core, "bram", kind="reminder")) == 1


def place(core: Core, person: str, ref: str, *answers: str) -> str:
    say(core, person, f"/placed {ref}")
    last = None
    for a in answers:
        last = one(say(core, person, a))
    assert last is not None and not last.error, last
    return one(press(core, person, "form:confirm")).text


def test_follow_ups_are_asked_and_the_last_good_one_closes(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    place(core, "wim", c.ref, "work_with_support", "Groenbedrijf Zwolle", "2026-12-01")
    assert case(core, c.ref).state == CaseState.placed
    for n, day in enumerate(
        [date(2026, 12, 31), date(2027, 3, 2), date(2027, 6, 1), date(2027, 12, 1)]
    ):
        at(frozen, day.year, day.month, day.day, 8, 59)
        run_sweep(core)
        assert len(inbox(core, "wim", kind="followup")) == n
        at(frozen, day.year, day.month, day.day, 9, 0)
        run_sweep(core)
        asked = inbox(core, "wim", kind="followup")
        assert len(asked) == n + 1
        actions = [b["action"] for b in asked[-1].payload["buttons"]]
        assert actions == [f"fu:{c.ref}:{n}:{a}" for a in ("ok", "changed", "dropped", "lost")]
        assert not one(press(core, "wim", f"fu:{c.ref}:{n}:ok")).error
    assert case(core, c.ref).state == CaseState.closed


def first_follow_up_asked(core: Core, frozen: time_machine.Coordinates) -> Case:
    """Wim claimed an early leaver, placed them from 1 December, and was asked on 31 December."""
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    place(core, "wim", c.ref, "work", "Bakkerij", "2026-12-01")
    at(frozen, 2026, 12, 31, 9, 0)
    run_sweep(core)
    assert [m.kind for m in inbox(core, "wim", kind="followup")] == ["followup"]
    return c


def test_a_drop_out_reopens_the_case_and_tells_the_coordinator(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    c = first_follow_up_asked(core, frozen)
    press(core, "wim", f"fu:{c.ref}:0:dropped")
    after = case(core, c.ref)
    assert after.state == CaseState.claimed and after.owner_id == "wim"
    assert [m.kind for m in inbox(core, "anna")] == ["dropout"]
    assert one(press(core, "wim", f"fu:{c.ref}:0:ok")).error  # the question is closed


def test_a_changed_place_is_recorded_and_follow_ups_go_on(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    c = first_follow_up_asked(core, frozen)
    press(core, "wim", f"fu:{c.ref}:0:changed")
    for a in ("mbo", "Deltion BBL", "2027-01-04"):
        say(core, "wim", a)
    press(core, "wim", "form:confirm")
    after = case(core, c.ref)
    assert after.state == CaseState.placed and after.placement_org == "Deltion BBL"
    assert after.followups_done == 1 and after.followup_open is None
    at(frozen, 2027, 4, 5, 9, 0)  # 91 days after the new start
    run_sweep(core)
    assert len(inbox(core, "wim", kind="followup")) == 2


def test_an_unanswered_follow_up_is_reminded_then_escalated(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    c = first_follow_up_asked(core, frozen)  # Thu 31 Dec; 1 Jan is a holiday
    at(frozen, 2027, 1, 6, 9, 0)  # Jan 4, 5, 6: three working days
    run_sweep(core)
    assert len(inbox(core, "wim", kind="followup_reminder")) == 1
    at(frozen, 2027, 1, 12, 9, 0)  # seven working days
    run_sweep(core)
    (escalation,) = inbox(core, "anna", kind="escalation")
    assert c.ref in escalation.payload["text"]


def test_lost_contact_at_a_follow_up_is_reported(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    c = first_follow_up_asked(core, frozen)
    press(core, "wim", f"fu:{c.ref}:0:lost")
    assert case(core, c.ref).state == CaseState.lost
    assert [m.kind for m in inbox(core, "dirk")] == ["doorstroompunt"]


def test_only_a_claimed_case_can_be_placed(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    assert one(say(core, "wim", f"/placed {c.ref}")).error


def test_still_in_place_after_changed_place_was_begun_leaves_one_follow_up(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    """Issue 8 item 5: answering the same question twice must not plan two next follow-ups."""
    from sqlmodel import select

    from bot.store.db import session_scope
    from bot.store.models import Task

    c = first_follow_up_asked(core, frozen)
    press(core, "wim", f"fu:{c.ref}:0:changed")  # the placement form opens …
    for a in ("mbo", "Deltion BBL", "2027-01-04"):
        say(core, "wim", a)
    assert not one(press(core, "wim", f"fu:{c.ref}:0:ok")).error  # … the old button is pressed
    refused = one(press(core, "wim", "form:confirm"))  # … and then the form confirmed
    assert refused.error and "no longer open" in refused.text
    after = case(core, c.ref)
    assert after.placement_org == "Bakkerij" and after.followups_done == 1
    with session_scope(core.engine) as session:
        pending = session.exec(
            select(Task).where(Task.kind == "followup", Task.case_ref == c.ref)
        ).all()
    assert sorted(t.payload["n"] for t in pending) == [0, 1]  # the one asked, and one next
