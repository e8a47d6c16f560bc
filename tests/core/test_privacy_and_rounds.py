"""Retention and privacy requests; forecasting rounds; idle conversations."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import select

from bot.core.app import Core
from bot.core.sweeps import run_retention, run_rounds, run_sweep
from bot.core.vocab import CaseState
from bot.store.db import session_scope
from bot.store.models import Conversation, OutboxMessage
from tests.cli.test_cli import vangnet
from tests.factories import case, inbox, make_leaver, one, press, say, trail

AMS = ZoneInfo("Europe/Amsterdam")


def at(traveller: time_machine.Coordinates, *args: int) -> None:
    traveller.move_to(datetime(*args, tzinfo=AMS))


def personal(**extra: str) -> dict[str, str]:
    return {
        "consent": "given",
        "name": "Jesse Voorbeeld",
        "contact": "06-1",
        "notes": "hovenier",
        **extra,
    }


def test_retention_erases_closed_and_withdrawn_after_the_period_and_nothing_else(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    withdrawn = make_leaver(core, **personal())
    say(core, "sara", f"/withdraw {withdrawn.ref} foutief")
    press(core, "sara", "form:confirm")
    open_case = make_leaver(core, **personal(early_leaver="yes", expected_exit="2026-11"))
    frozen.shift(timedelta(days=365 * 2 - 30))  # not yet 24 months
    assert run_retention(core) == 0
    frozen.shift(timedelta(days=60))
    assert run_retention(core) == 1
    erased = case(core, withdrawn.ref)
    assert erased.name is None and erased.notes is None and erased.contact is None
    assert erased.personal_data_erased_at is not None
    assert erased.student_ref and erased.state == CaseState.withdrawn  # figures remain
    assert trail(core, withdrawn.ref)[-1].action == "erase_personal"
    assert case(core, open_case.ref).name == "Jesse Voorbeeld"  # an open case keeps its data
    assert run_retention(core) == 0


def test_erasing_also_redacts_what_the_outbox_kept(core: Core) -> None:
    c = make_leaver(core, **personal(early_leaver="yes", expected_exit="2026-11"))
    assert any("Jesse" in json.dumps(m.payload) for m in inbox(core, "wim"))
    from bot.core.context import system_person
    from bot.core.privacy import erase_case

    with session_scope(core.engine) as session:
        erase_case(core.ctx(session, system_person(), transport="cli", private=True), c.ref)
    assert not any("Jesse" in json.dumps(m.payload) for m in inbox(core, "wim"))
    card = one(say(core, "wim", f"/case {c.ref}"))
    assert "Jesse" not in repr(card)


def test_export_and_erase_from_the_command_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/v.db"}
    vangnet("db", "upgrade", env=env, cwd=tmp_path)
    listing = vangnet("run", env=env, cwd=tmp_path, stdin="/as sara\n/leavers\n")
    ref = next(
        line.split("·")[0].strip(" •") for line in listing.stdout.splitlines() if "DB-2044" in line
    )
    exported = vangnet("export", ref, env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["name"] == "Jesse Voorbeeld" and data["audit_trail"] and data["messages"]
    erased = vangnet("erase", "--yes", ref, env=env, cwd=tmp_path)
    assert erased.returncode == 0
    again = json.loads(vangnet("export", ref, env=env, cwd=tmp_path).stdout)
    assert again["name"] is None and "Jesse" not in json.dumps(again)
    assert vangnet("export", "QQQQ", env=env, cwd=tmp_path).returncode != 0


def test_a_forecasting_round_asks_every_school_contact_once(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    at(frozen, 2027, 3, 1, 9, 0)  # the region's round date 03-01
    run_rounds(core)
    run_rounds(core)  # a restart, or a second instance
    contacts = ["sara", "joost", "mila", "noor", "tim", "ilse"]
    for person in contacts:
        (ask,) = inbox(core, person, kind="round")
        labels = [b["action"] for b in ask.payload["buttons"]]
        assert labels == ["cmd:leaver", "round:upload", "leavers:1", "round:complete:2027-03-01"]
    assert not one(press(core, "sara", "round:complete:2027-03-01")).error
    at(frozen, 2027, 3, 2, 9, 0)
    run_rounds(core)
    assert inbox(core, "sara", kind="round_reminder") == []  # she confirmed
    assert len(inbox(core, "tim", kind="round_reminder")) == 1
    run_rounds(core)
    assert len(inbox(core, "tim", kind="round_reminder")) == 1  # once per working day
    for day in range(3, 15):  # the daily job, every day; no reminders on 6, 7, 13, 14 March
        at(frozen, 2027, 3, day, 9, 0)
        run_rounds(core)
        if day == 12:
            # reminded every working day (2–5, 8–12 March), but never piled up: Tim, who
            # has not read them, has one reminder waiting, the newest (issue 22)
            (reminder,) = inbox(core, "tim", kind="round_reminder")
            assert reminder.payload["buttons"] and reminder.sent_at is None
            assert inbox(core, "anna") == []
    at(frozen, 2027, 3, 15, 9, 0)  # ten working days after 1 March
    run_rounds(core)
    assert len(inbox(core, "tim", kind="round_reminder")) == 1  # no more reminders
    (report,) = inbox(core, "anna", kind="round_report")
    assert "Praktijkschool De Brug" not in report.payload["lines"]
    assert len(report.payload["lines"]) == 5
    run_rounds(core)
    assert len(inbox(core, "anna", kind="round_report")) == 1


def test_no_round_on_other_days(core: Core, frozen: time_machine.Coordinates) -> None:
    at(frozen, 2027, 2, 20, 9, 0)
    run_rounds(core)
    assert inbox(core, "sara") == []


def test_an_idle_conversation_is_reminded_once_then_dropped(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    at(frozen, 2027, 3, 5, 15, 0)  # Friday afternoon
    say(core, "sara", "/leaver")
    say(core, "sara", "AB12")
    at(frozen, 2027, 3, 8, 8, 59)
    run_sweep(core)
    assert inbox(core, "sara", kind="conversation_reminder") == []
    at(frozen, 2027, 3, 8, 9, 0)  # the next working day
    run_sweep(core)
    run_sweep(core)
    assert len(inbox(core, "sara", kind="conversation_reminder")) == 1
    at(frozen, 2027, 3, 12, 15, 1)  # seven days after the last answer
    run_sweep(core)
    assert len(inbox(core, "sara", kind="conversation_dropped")) == 1
    with session_scope(core.engine) as session:
        assert session.exec(select(Conversation)).all() == []
        assert session.exec(select(OutboxMessage).where(OutboxMessage.kind == "due")).all() == []
