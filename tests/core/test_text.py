"""What people type is cleaned and limited before it is kept or echoed (issue 8, item 7)."""

from __future__ import annotations

from bot.core.app import Core
from bot.core.text import clean, visible
from bot.core.vocab import CaseState
from tests.factories import case, inbox, make_leaver, one, press, say


def test_escape_sequences_and_control_characters_are_removed() -> None:
    assert clean("\x1b[31mrood\x1b[0m en \x1b]0;titel\x07gewoon") == "rood en gewoon"
    assert clean("a\x00b\x07c\x7fd\x9be") == "abcde"
    assert clean("regel 1\nregel 2\tkolom") == "regel 1\nregel 2\tkolom"
    assert visible("\u200b\u200d\u2060") == "" and visible("a\u200bb") == "ab"


def test_an_unknown_case_is_echoed_without_escapes(core: Core) -> None:
    reply = one(say(core, "wim", "/case \x1b[2J\x1b[31mK7F2"))
    assert reply.error and "\x1b" not in reply.text and "K7F2" in reply.text


def test_a_reference_far_too_long_is_refused_without_echoing_it(core: Core) -> None:
    reply = one(say(core, "wim", "/case " + "K" * 10_000))
    assert reply.error and len(reply.text) < 200


def test_a_command_name_far_too_long_is_not_echoed_whole(core: Core) -> None:
    reply = one(say(core, "wim", "/" + "x" * 10_000))
    assert reply.error and len(reply.text) < 200


def test_a_student_reference_of_invisible_characters_is_refused(core: Core) -> None:
    say(core, "sara", "/leaver")
    reply = one(say(core, "sara", "\u200b\u200b"))
    assert reply.error and "empty" in reply.text
    reply = one(say(core, "sara", "\x1b[1mAB\x1b[0m-12"))
    assert not reply.error  # accepted, on to the next question
    back = one(press(core, "sara", "form:back"))
    assert "Now: AB-12" in back.text


def test_a_transfer_reason_is_forwarded_without_control_characters(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    assert not one(say(core, "wim", f"/transfer {c.ref} Kampen verhuisd\x1b[8m verborgen")).error
    (card,) = inbox(core, "bram", kind="due")
    assert "verhuisd verborgen" in card.payload["text"] and "\x1b" not in card.payload["text"]
    assert case(core, c.ref).state == CaseState.due
