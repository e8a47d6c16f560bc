"""Withdrawing a case (issue 8, item 3): a reason and a confirmation; whoever had the case is
told; the coordinator can reopen it within the retention period."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from bot.core.app import Core
from bot.core.sweeps import run_sweep
from bot.core.vocab import CaseState
from tests.factories import case, inbox, make_leaver, one, press, say, text_of


def claimed_by_wim(core: Core) -> str:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    return c.ref


def test_withdrawing_asks_a_reason_then_confirmation_and_changes_nothing_before(
    core: Core,
) -> None:
    ref = claimed_by_wim(core)
    before = case(core, ref)
    question = one(say(core, "sara", f"/withdraw {ref}"))
    assert not question.error and "Why" in question.text
    assert [b.action for b in question.buttons][:2] == [
        "form:choose:stays_at_school",
        "form:choose:mistake",
    ]
    summary = one(press(core, "sara", "form:choose:stays_at_school"))
    assert "Wim Jansen has this case and will be told" in summary.text
    assert "Reason: stays at school" in text_of(summary)
    assert case(core, ref).version == before.version  # nothing yet
    assert one(press(core, "sara", "form:cancel")).text.startswith("Stopped")
    assert case(core, ref).state == CaseState.claimed


def test_the_owner_and_the_brokers_who_had_the_card_are_told(core: Core) -> None:
    ref = claimed_by_wim(core)
    say(core, "sara", f"/withdraw {ref} stays_at_school")
    done = one(press(core, "sara", "form:confirm"))
    assert not done.error and "reopen" in done.text
    after = case(core, ref)
    assert after.state == CaseState.withdrawn and after.closed_reason == "stays_at_school"
    for broker in ("wim", "fatima"):  # the owner, and the other broker who had its card
        (told,) = inbox(core, broker, kind="withdrawn")
        assert ref in told.payload["text"] and "Sara Smit" in told.payload["text"]
        assert "stays at school" in told.payload["text"]
    assert inbox(core, "sara", kind="withdrawn") == []  # she did it herself


def test_a_withdrawal_by_the_coordinator_tells_the_school(core: Core) -> None:
    c = make_leaver(core)
    say(core, "anna", f"/withdraw {c.ref} dubbel aangemeld")
    press(core, "anna", "form:confirm")
    (told,) = inbox(core, "sara", kind="withdrawn")
    assert "dubbel aangemeld" in told.payload["text"]


def test_the_coordinator_reopens_a_withdrawn_case(core: Core) -> None:
    ref = claimed_by_wim(core)
    say(core, "sara", f"/withdraw {ref} mistake")
    press(core, "sara", "form:confirm")
    assert one(say(core, "sara", f"/reopen {ref}")).error  # the coordinator's command
    assert case(core, ref).state == CaseState.withdrawn
    reopened = one(say(core, "anna", f"/reopen {ref}"))
    assert not reopened.error, reopened.text
    after = case(core, ref)
    # an early leaver: due again at once, with nobody owning it yet
    assert after.state == CaseState.due and after.owner_id is None
    assert after.closed_reason is None
    assert len(inbox(core, "wim", kind="due")) == 2
    assert inbox(core, "sara", kind="reopened")
    assert one(say(core, "anna", f"/reopen {ref}")).error  # not withdrawn any more


def test_no_reopening_after_the_retention_period_erased_it(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    c = make_leaver(core, consent="given", name="Jesse Voorbeeld")
    say(core, "sara", f"/withdraw {c.ref} mistake")
    press(core, "sara", "form:confirm")
    frozen.shift(timedelta(days=365 * 2 + 30))
    run_sweep(core)
    from bot.core.sweeps import run_retention

    assert run_retention(core) == 1
    refused = one(say(core, "anna", f"/reopen {c.ref}"))
    assert refused.error and "retention" in refused.text
    assert case(core, c.ref).state == CaseState.withdrawn


def test_a_reason_too_long_is_refused_and_changes_nothing(core: Core) -> None:
    c = make_leaver(core)
    refused = one(say(core, "sara", f"/withdraw {c.ref} {'x' * 501}"))
    assert refused.error and "500" in refused.text
    assert case(core, c.ref).state == CaseState.forecast


def test_back_from_the_summary_of_a_reason_given_with_the_command(core: Core) -> None:
    c = make_leaver(core)
    say(core, "sara", f"/withdraw {c.ref} dubbel")
    question = one(press(core, "sara", "form:back"))
    assert not question.error and "Why" in question.text and "Now: dubbel" in question.text
    assert "first question" in one(press(core, "sara", "form:back")).text
