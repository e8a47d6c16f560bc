"""Issue 22: places without people (a municipality without a broker, one outside the region)
and people who come and go (a broker who leaves, a second school contact, a new person)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlmodel import select

from bot.core import sweeps
from bot.core.app import Core
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person, Task
from tests.factories import case, inbox, make_leaver, one, press, say, text_of, trail

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def answers(core: Core, person: str, *texts: str) -> str:
    reply = None
    for text in texts:
        reply = one(say(core, person, text))
    assert reply is not None
    return text_of(reply)


# --- 5. a municipality without a broker --------------------------------------------------


def test_the_intake_warns_and_the_coordinator_gets_the_card_at_once(core: Core) -> None:
    say(core, "sara", "/leaver")
    answers(core, "sara", "ZW1", "Zwartewaterland", "pro", "ja", "november 2026", "2009")
    answers(core, "sara", "werk", "nee")
    done = one(press(core, "sara", "form:confirm"))
    assert "Zwartewaterland has no broker yet: the case goes to the coordinator." in done.text
    [ref] = [m.case_ref for m in inbox(core, "anna", kind="due")]
    assert ref is not None and case(core, ref).state == "due"
    [card] = inbox(core, "anna", kind="due")
    assert "Zwartewaterland has no broker yet" in card.payload["text"]
    assert f"transfer:{ref}" in [b["action"] for b in card.payload["buttons"]]


def test_a_forecast_of_a_municipality_without_broker_is_warned_about_too(core: Core) -> None:
    say(core, "sara", "/leaver")
    answers(core, "sara", "ZW2", "Hattem", "pro", "nee", "juni 2027", "2009", "werk", "nee")
    done = one(press(core, "sara", "form:confirm"))
    assert "Hattem has no broker yet: the case goes to the coordinator." in done.text


def test_a_file_with_leavers_of_a_municipality_without_broker_warns(core: Core) -> None:
    data = (
        b"student_ref,home_municipality,programme,expected_exit\n"
        b"F1,Zwartewaterland,pro,2027-06\nF2,Zwolle,pro,2027-06\n"
    )
    reply = one(core.handle_file(person_id="sara", data=data, transport="test", filename="a.csv"))
    assert "Zwartewaterland has no broker yet: the case goes to the coordinator." in text_of(reply)
    assert "Zwolle has no broker" not in text_of(reply)


def test_the_unrouted_case_is_reminded_to_the_coordinator_not_escalated(core: Core) -> None:
    c = make_leaver(core, home_municipality="Zwartewaterland", early_leaver="yes")
    with session_scope(core.engine) as session:
        for task in session.exec(select(Task).where(Task.case_ref == c.ref)).all():
            task.due_at = task.due_at - timedelta(days=30)
            session.add(task)
    sweeps.run_sweep(core)
    [reminder] = inbox(core, "anna", kind="reminder")
    text = reminder.payload["text"]
    assert "for you: Zwartewaterland has no broker yet" in text and "for a broker" not in text
    assert inbox(core, "anna", kind="escalation") == []  # the card came at once: no escalation


# --- 6. municipalities outside the region, by name -----------------------------------------


def test_outside_municipalities_show_by_name_never_by_code(core: Core) -> None:
    c = make_leaver(core, home_municipality="Nijmegen", early_leaver="yes")
    listed = one(say(core, "anna", "/leavers"))
    assert "Nijmegen: 1 leaver" in text_of(listed) and "GM0268" not in text_of(listed)
    [button] = [b for b in listed.buttons if b.label == "Nijmegen"]
    shown = one(press(core, "anna", button.action))
    assert not shown.error and c.ref in text_of(shown)
    summary = text_of(one(say(core, "anna", f"/edit {c.ref}")))
    assert "Home municipality: Nijmegen" in summary and "GM0268" not in summary


def test_editing_to_an_outside_municipality_says_it_goes_to_the_coordinator(core: Core) -> None:
    c = make_leaver(core, home_municipality="Zwolle")
    say(core, "sara", f"/edit {c.ref}")
    press(core, "sara", "form:edit:home_municipality")
    summary = text_of(one(say(core, "sara", "Utrecht")))
    assert "Home municipality: Zwolle → Utrecht" in summary
    assert "Utrecht is outside the region: the case goes to the coordinator" in summary
    done = one(press(core, "sara", "form:confirm"))
    assert "Utrecht is outside the region: the case goes to the coordinator" in done.text


# --- 8. a broker who leaves ------------------------------------------------------------------


def _placed(core: Core) -> str:
    ref = make_leaver(core, early_leaver="yes", expected_exit="2026-11").ref
    say(core, "wim", f"/claim {ref}")
    say(core, "wim", f"/placed {ref}")
    for answer in ("work", "Bakkerij Jansen", "1-12-2026"):
        say(core, "wim", answer)
    press(core, "wim", "form:confirm")
    assert case(core, ref).state == "placed"
    return ref


def _followups(core: Core, ref: str) -> list[tuple[str, object]]:
    with session_scope(core.engine) as session:
        rows = session.exec(select(Task).where(Task.case_ref == ref, Task.kind == "followup"))
        return sorted((t.due_at.isoformat(), t.done_at) for t in rows)


def test_the_coordinator_hands_a_placed_case_to_another_broker(core: Core) -> None:
    ref = _placed(core)
    planned = _followups(core, ref)
    # the Transfer button of the card works for a placed case: it offers the brokers
    choices = one(press(core, "anna", f"transfer:{ref}"))
    assert not choices.error and f"transfer:{ref}:@fatima" in [b.action for b in choices.buttons]
    done = one(press(core, "anna", f"transfer:{ref}:@fatima"))
    assert not done.error and "handed over to Fatima El Amrani; it stays placed" in done.text
    row = case(core, ref)
    assert (row.state, row.owner_id) == ("placed", "fatima")
    assert _followups(core, ref) == planned  # the follow-up schedule is kept
    [event] = [e for e in trail(core, ref) if e.action == "transfer"]
    assert event.detail == {"from": "placed", "to": "placed", "owner_id": "fatima"}
    [card] = inbox(core, "fatima", kind="handed")
    assert "Anna de Vries handed case" in card.payload["text"]
    assert any("over to Fatima El Amrani" in m.payload["text"] for m in inbox(core, "wim"))


def test_the_owner_of_a_placed_case_can_hand_it_to_a_colleague(core: Core) -> None:
    ref = _placed(core)
    refused = one(say(core, "wim", f"/transfer {ref} Kampen"))
    assert refused.error and "/transfer" in refused.text and "@name" in refused.text
    done = one(say(core, "wim", f"/transfer {ref} @fatima"))
    assert not done.error and case(core, ref).owner_id == "fatima"


def test_deactivating_a_broker_hands_all_cases_over_in_one_step(core: Core) -> None:
    placed = _placed(core)
    claimed = make_leaver(core, early_leaver="yes", expected_exit="2026-11").ref
    say(core, "wim", f"/claim {claimed}")
    listed = one(say(core, "anna", "/admin deactivate wim"))
    assert listed.error and placed in text_of(listed) and claimed in text_of(listed)
    all_to = [b for b in listed.buttons if b.label == "All to Fatima El Amrani"]
    assert all_to, [b.label for b in listed.buttons]
    ask = one(press(core, "anna", all_to[0].action))
    assert "Hand 2 cases of Wim Jansen over to Fatima El Amrani" in ask.text
    assert case(core, placed).owner_id == "wim"  # nothing yet: asked first
    [cancel] = [b for b in ask.buttons if b.label == "Cancel"]
    assert one(press(core, "anna", cancel.action)).text == "Nothing changed."
    [confirm] = [b for b in ask.buttons if b.label == "Confirm"]
    done = one(press(core, "anna", confirm.action))
    assert "2 cases are handed over to Fatima El Amrani." in done.text
    assert "Wim Jansen is deactivated" in done.text
    assert (case(core, placed).state, case(core, placed).owner_id) == ("placed", "fatima")
    assert (case(core, claimed).state, case(core, claimed).owner_id) == ("claimed", "fatima")
    assert not person_active(core, "wim")


def person_active(core: Core, person_id: str) -> bool:
    with session_scope(core.engine) as session:
        found = session.get(Person, person_id)
        assert found is not None
        return found.active


# --- 15. a school contact's own view ---------------------------------------------------------


def test_a_school_contact_sees_the_names_of_own_leavers_in_private(core: Core) -> None:
    named = make_leaver(core, consent="given", name="Sam de Boer")
    hidden = make_leaver(core, consent="refused")
    mine = text_of(one(say(core, "sara", "/leavers")))
    assert f"{named.ref} · {named.student_ref}" in mine and "Sam de Boer" in mine
    assert hidden.ref in mine
    assert "view_personal" in {e.action for e in trail(core, named.ref)}
    # never in a group or channel, and never for a broker's list
    assert "Sam de Boer" not in text_of(one(say(core, "sara", "/leavers", private=False)))
    assert "Sam de Boer" not in text_of(one(say(core, "wim", "/leavers")))


def test_help_for_a_school_contact_names_upload_and_not_the_scan(core: Core) -> None:
    shown = text_of(one(say(core, "sara", "/help")))
    assert "a file of leavers (CSV or Excel), sent to me in this chat" in shown
    assert "/scan" not in shown and "/leaver —" in shown
    terminal = core.handle_text(person_id="sara", text="/help", transport="terminal", private=True)
    assert "/upload FILE" in text_of(one(terminal))
    assert "/scan" in text_of(one(say(core, "anna", "/help")))  # the coordinator runs scans


# --- 7. the forecasting round is per school --------------------------------------------------


def _second_contact(core: Core) -> None:
    with session_scope(core.engine) as session:
        session.add(Person(id="kees", name="Kees Mol", roles=["school_contact"], school_id="brug"))


def test_one_contact_confirming_answers_the_round_for_the_school(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    _second_contact(core)
    frozen.move_to(datetime(2027, 3, 1, 9, 0, tzinfo=AMSTERDAM))
    sweeps.run_rounds(core)
    assert inbox(core, "kees", kind="round") and inbox(core, "sara", kind="round")
    frozen.move_to(datetime(2027, 3, 2, 9, 0, tzinfo=AMSTERDAM))
    sweeps.run_rounds(core)
    assert len(inbox(core, "kees", kind="round_reminder")) == 1
    assert not one(press(core, "sara", "round:complete:2027-03-01")).error
    (told,) = inbox(core, "kees", kind="round_answered")
    assert (
        "Sara Smit confirmed that the list of expected leavers of Praktijkschool De Brug"
        in (told.payload["text"])
    )
    assert [m.dropped_at is not None for m in inbox(core, "kees", kind="round_reminder")] == [True]
    for day in (3, 4, 5):
        frozen.move_to(datetime(2027, 3, day, 9, 0, tzinfo=AMSTERDAM))
        sweeps.run_rounds(core)
    assert len(inbox(core, "kees", kind="round_reminder")) == 1  # none after Sara confirmed
    assert "Praktijkschool De Brug" not in text_of(one(say(core, "anna", "/digest")))
    again = one(press(core, "kees", "round:complete:2027-03-01"))
    assert "Sara Smit already confirmed" in again.text


def test_a_delivered_reminder_is_replaced_by_the_next_one(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    frozen.move_to(datetime(2027, 3, 1, 9, 0, tzinfo=AMSTERDAM))
    sweeps.run_rounds(core)
    frozen.move_to(datetime(2027, 3, 2, 9, 0, tzinfo=AMSTERDAM))
    sweeps.run_rounds(core)
    with session_scope(core.engine) as session:  # Tim's Slack showed the first reminder
        (first,) = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.person_id == "tim", OutboxMessage.kind == "round_reminder"
            )
        ).all()
        first.sent_at, first.platform_ref = first.created_at, "D01TIM:1.0"
        session.add(first)
    frozen.move_to(datetime(2027, 3, 3, 9, 0, tzinfo=AMSTERDAM))
    sweeps.run_rounds(core)
    reminders = inbox(core, "tim", kind="round_reminder")
    assert len(reminders) == 2 and reminders[-1].sent_at is None
    (edit,) = inbox(core, "tim", kind="edit")
    assert edit.replaces_id == reminders[0].id and edit.payload["buttons"] == []
    assert edit.payload["text"] == "See the newer reminder."


# --- 14. unclaimed after the exit date ------------------------------------------------------


def _run_due_tasks(core: Core, ref: str) -> None:
    """Every planned task of the case falls due now."""
    with session_scope(core.engine) as session:
        for task in session.exec(select(Task).where(Task.case_ref == ref)).all():
            if task.done_at is None:
                task.due_at = task.due_at - timedelta(days=60)
                session.add(task)
    sweeps.run_sweep(core)


def test_a_case_unclaimed_past_its_exit_is_escalated_weekly_and_shown_apart(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    late = make_leaver(core, early_leaver="yes", expected_exit="2026-10")
    fresh = make_leaver(core, early_leaver="yes", expected_exit="2027-01")
    _run_due_tasks(core, late.ref)
    assert len(inbox(core, "anna", kind="escalation")) == 1  # the usual escalation
    assert inbox(core, "anna", kind="escalation_past_exit") == []  # again a week later
    frozen.shift(timedelta(days=7))
    _run_due_tasks(core, late.ref)
    [first] = inbox(core, "anna", kind="escalation_past_exit")
    assert (
        "is still not taken over, and the young person left school on 1 October 2026"
        in (first.payload["text"])
    )
    frozen.shift(timedelta(days=7))
    _run_due_tasks(core, late.ref)
    assert len(inbox(core, "anna", kind="escalation_past_exit")) == 1  # replaced, not piled
    with session_scope(core.engine) as session:
        weekly = session.exec(
            select(Task).where(Task.case_ref == late.ref, Task.kind == "unclaimed_past_exit")
        ).all()
    assert len(weekly) == 3 and sum(t.done_at is None for t in weekly) == 1  # next week's
    digest = one(say(core, "anna", "/digest"))
    [line] = [x for x in digest.lines if x.startswith("Unclaimed although")]
    assert late.ref in line and fresh.ref not in line
    say(core, "wim", f"/claim {late.ref}")
    frozen.shift(timedelta(days=7))
    _run_due_tasks(core, late.ref)
    assert len(inbox(core, "anna", kind="escalation_past_exit")) == 1  # claimed: no more


# --- 9. /admin add: the school step ----------------------------------------------------------


def test_the_school_step_offers_the_schools_and_takes_a_word_of_the_name(core: Core) -> None:
    say(core, "anna", "/admin add")
    say(core, "anna", "Kees Mol")
    question = one(say(core, "anna", "school contact"))
    assert "At which school?" in question.text
    offered = {b.label: b.action for b in question.buttons}
    assert offered["Praktijkschool De Brug"] == "form:choose:brug" and len(offered) >= 6 + 2
    typo = one(say(core, "anna", "De Brg"))
    assert typo.error and "Praktijkschool De Brug" in [b.label for b in typo.buttons]
    several = one(say(core, "anna", "VSO"))
    assert several.error and "Several schools fit" in several.text
    assert {"VSO De Vlinderboom", "VSO De Sterrenwacht"} <= {b.label for b in several.buttons}
    language = one(say(core, "anna", "De Brug"))
    assert not language.error and "language" in language.text
    one(press(core, "anna", "form:choose:nl"))
    press(core, "anna", "form:skip")  # no Slack member
    summary = one(press(core, "anna", "form:skip"))  # no Teams account
    assert "School: Praktijkschool De Brug" in text_of(summary)


def test_the_school_buttons_are_those_of_the_chosen_municipality(core: Core) -> None:
    say(core, "anna", "/admin add")
    say(core, "anna", "Kees Mol")
    say(core, "anna", "broker, school contact")
    question = one(say(core, "anna", "Zwolle"))
    schools = [b.label for b in question.buttons if b.action.startswith("form:choose:")]
    assert schools == ["Praktijkschool De Brug", "Vaartcollege Entree"]
