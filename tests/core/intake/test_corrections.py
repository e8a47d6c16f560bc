"""Registering a known leaver again (issue 8, item 1): the summary says what changes; consent
withdrawn erases the details everywhere they are shown; a new home municipality re-routes a
case nobody has taken yet and tells the brokers who had its card."""

from __future__ import annotations

import json

from bot.core.app import Core
from bot.core.vocab import CaseState
from tests.factories import case, inbox, make_leaver, one, say, text_of, trail


def intake(core: Core, person: str, *answers: str) -> str:
    """Answer the guided /leaver intake; returns the summary's text."""
    say(core, person, "/leaver")
    reply = None
    for a in answers:
        reply = one(say(core, person, a))
        assert not reply.error, reply.text
    assert reply is not None
    return text_of(reply)


def test_the_summary_says_the_leaver_is_known_and_what_changes(core: Core) -> None:
    c = make_leaver(
        core,
        student_ref="JV-1",
        home_municipality="Kampen",
        early_leaver="yes",
        expected_exit="2026-11",
        consent="given",
        name="Jesse Voorbeeld",
        notes="hovenier",
    )
    summary = intake(
        core, "sara", "JV-1", "Zwolle", "pro", "yes", "2026-11", "skip", "skip", "not_asked"
    )
    assert f"already known as case {c.ref}" in summary
    assert "Home municipality: Kampen → Zwolle" in summary
    assert "Consent: given → not asked" in summary
    assert "Name: erased" in summary and "Jesse" not in summary
    assert "moves to the brokers of the new home municipality" in summary


def test_a_new_leaver_gets_no_such_note(core: Core) -> None:
    summary = intake(core, "sara", "NEW-1", "Zwolle", "pro", "no", "2027-06", "2009", "work")
    assert "already known" not in summary


def test_consent_withdrawn_erases_the_details_everywhere_they_are_shown(core: Core) -> None:
    c = make_leaver(
        core,
        student_ref="JV-2",
        early_leaver="yes",
        expected_exit="2026-11",
        consent="given",
        name="Jesse Voorbeeld",
        contact="06-12345678",
        notes="hovenier",
    )
    assert any("Jesse" in json.dumps(m.payload) for m in inbox(core, "wim", kind="due"))
    make_leaver(core, student_ref="JV-2", early_leaver="yes", expected_exit="2026-11")
    after = case(core, c.ref)
    assert after.name is None and after.contact is None and after.notes is None
    # the card waiting for wim (not sent yet) now shows the case without the name
    for message in inbox(core, "wim"):
        assert "Jesse" not in json.dumps(message.payload)
    assert "Jesse" not in repr(one(say(core, "wim", f"/case {c.ref}")))
    (update,) = [e for e in trail(core, c.ref) if e.action == "update"]
    assert "consent" in update.detail["fields"] and "Jesse" not in json.dumps(update.detail)


def test_a_new_home_municipality_reroutes_an_unclaimed_case(core: Core) -> None:
    c = make_leaver(
        core,
        student_ref="JV-3",
        home_municipality="Kampen",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    assert case(core, c.ref).responsible_municipality_code == "GM0166"  # Kampen
    assert [m.kind for m in inbox(core, "bram")] == ["due"]
    make_leaver(
        core,
        student_ref="JV-3",
        home_municipality="Zwolle",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    after = case(core, c.ref)
    assert after.home_municipality_code == "GM0193"
    assert after.responsible_municipality_code == "GM0193"  # Zwolle's brokers have it now
    assert after.state == CaseState.due
    (told,) = inbox(core, "bram", kind="rerouted")
    assert c.ref in told.payload["text"] and "Zwolle" in told.payload["text"]
    (card,) = inbox(core, "bram", kind="due")  # the waiting card no longer offers Claim
    assert all(b["action"] != f"claim:{c.ref}" for b in card.payload["buttons"])
    for broker in ("wim", "fatima"):
        (due,) = inbox(core, broker, kind="due")
        assert f"claim:{c.ref}" in [b["action"] for b in due.payload["buttons"]]
    assert one(say(core, "bram", f"/claim {c.ref}")).error
    assert not one(say(core, "wim", f"/claim {c.ref}")).error


def test_a_claimed_case_keeps_its_owner_when_the_home_municipality_changes(core: Core) -> None:
    c = make_leaver(core, student_ref="JV-4", early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    make_leaver(
        core,
        student_ref="JV-4",
        home_municipality="Kampen",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    after = case(core, c.ref)
    assert after.owner_id == "wim" and after.state == CaseState.claimed
    assert after.home_municipality_code == "GM0166"
    assert inbox(core, "bram") == []
