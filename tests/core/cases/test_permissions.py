"""The permission matrix: each command × each role × in scope / out of scope (product.md 8)."""

from __future__ import annotations

import pytest
import time_machine

from bot.core.app import Core
from bot.core.commands import BUTTONS
from tests.factories import case, make_leaver, one, press, say, text_of

# Two worlds that do not touch: a Zwolle leaver at De Brug (Zwolle) and a Kampen leaver at
# De Vlinderboom (Kampen). sara/wim belong to the first, mila/bram to the second.
PEOPLE = {
    "anna": "coordinator",
    "sara": "school contact of De Brug",
    "mila": "school contact of De Vlinderboom",
    "wim": "broker of Zwolle",
    "bram": "broker of Kampen",
    "dirk": "doorstroompunt",
}


@pytest.fixture
def world(core: Core) -> dict[str, str]:
    zwolle = make_leaver(
        core, school="brug", by="sara", early_leaver="yes", expected_exit="2026-11"
    )
    kampen = make_leaver(
        core,
        school="vlinder",
        by="mila",
        home_municipality="Kampen",
        programme="vso",
        vso_profile="work",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    return {"zwolle": zwolle.ref, "kampen": kampen.ref}


SCOPE = {  # who sees which case
    "anna": {"zwolle", "kampen"},
    "sara": {"zwolle"},
    "mila": {"kampen"},
    "wim": {"zwolle"},
    "bram": {"kampen"},
    "dirk": set(),
}

ROLE_OF_COMMAND = {  # who may use the command at all
    "case": {"anna", "sara", "mila", "wim", "bram", "dirk"},
    "claim": {"wim", "bram"},
    "transfer": {"anna", "wim", "bram"},
    "withdraw": {"anna", "sara", "mila"},
    "close": {"anna", "wim", "bram"},
    "lost": {"anna", "wim", "bram"},
}

ARGS = {"transfer": "Dalfsen", "close": "geen ondersteuning nodig", "withdraw": "mistake"}


@pytest.mark.parametrize("command", sorted(ROLE_OF_COMMAND))
@pytest.mark.parametrize("person", sorted(PEOPLE))
@pytest.mark.parametrize("which", ["zwolle", "kampen"])
def test_case_commands(
    core: Core, world: dict[str, str], command: str, person: str, which: str
) -> None:
    ref = world[which]
    before = case(core, ref)
    reply = one(say(core, person, f"/{command} {ref} {ARGS.get(command, '')}".strip()))
    if person not in ROLE_OF_COMMAND[command]:
        assert reply.error and f"/{command}" in reply.text, "role refusal names the command"
        assert case(core, ref).version == before.version
    elif which not in SCOPE[person]:
        assert reply.error and ref in reply.text, "out of scope reads as unknown"
        assert case(core, ref).version == before.version
    elif command in ("close", "lost"):
        # in scope, but these need a claimed case owned by the caller (or the coordinator)
        assert reply.error
        assert case(core, ref).version == before.version
    else:
        assert not reply.error, reply.text
        if command == "withdraw":  # asks to confirm first
            assert case(core, ref).version == before.version
            assert not one(press(core, person, "form:confirm")).error
        if command != "case":
            assert case(core, ref).version > before.version


@pytest.mark.parametrize("person", sorted(PEOPLE))
def test_leavers_lists_exactly_the_scope(core: Core, world: dict[str, str], person: str) -> None:
    # "/leavers 1": the whole list (a coordinator's bare /leavers shows counts per municipality)
    reply = one(say(core, person, "/leavers 1"))
    if person == "dirk":
        # the doorstroompunt sees only cases reported to them: none yet
        assert not reply.error and not reply.lines
        return
    shown = {which for which, ref in world.items() if ref in text_of(reply)}
    assert shown == SCOPE[person]


@pytest.mark.parametrize("person", sorted(PEOPLE))
def test_cases_queue_is_for_brokers_only(core: Core, world: dict[str, str], person: str) -> None:
    reply = one(say(core, person, "/cases"))
    if person in ("wim", "bram"):
        assert not reply.error
        shown = {which for which, ref in world.items() if ref in text_of(reply)}
        assert shown == SCOPE[person]
    else:
        assert reply.error and "/cases" in reply.text


def test_broker_of_the_school_municipality_sees_but_does_not_queue(core: Core) -> None:
    c = make_leaver(core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11")
    assert c.ref in text_of(one(say(core, "wim", "/leavers")))
    assert c.ref not in text_of(one(say(core, "wim", "/cases")))
    assert c.ref in text_of(one(say(core, "bram", "/cases")))


def test_a_case_transferred_to_a_broker_is_in_their_scope(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    assert one(say(core, "henk", f"/case {c.ref}")).error
    assert not one(say(core, "wim", f"/transfer {c.ref} @henk")).error
    assert not one(say(core, "henk", f"/case {c.ref}")).error
    assert c.ref in text_of(one(say(core, "henk", "/cases")))


def test_the_doorstroompunt_sees_cases_reported_to_them(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    say(core, "wim", f"/lost {c.ref}")
    assert not one(say(core, "dirk", f"/case {c.ref}")).error


def test_someone_not_in_the_directory_gets_a_polite_refusal_and_nothing_else(core: Core) -> None:
    reply = one(say(core, "mallory", "/leavers"))
    assert reply.error and reply.text
    assert not reply.lines and not reply.buttons and not reply.fields


def test_help_shows_only_what_the_role_can_do(core: Core) -> None:
    school = text_of(one(say(core, "sara", "/help")))
    broker = text_of(one(say(core, "wim", "/help")))
    assert "/withdraw" in school and "/claim" not in school
    assert "/claim" in broker and "/withdraw" not in broker


def test_an_unknown_command_says_so(core: Core) -> None:
    reply = one(say(core, "wim", "/frobnicate"))
    assert reply.error and "/frobnicate" in reply.text


# --- buttons pass the same checks as their commands (issue 8, item 6) ----------------------


def test_every_button_kind_belongs_to_a_command_and_does_something() -> None:
    from bot.core.commands import BUTTONS, COMMANDS

    kinds = [press.kind for command in COMMANDS.values() for press in command.buttons]
    assert sorted(kinds) == sorted(set(BUTTONS))  # each kind in one row only
    for kind, command in BUTTONS.items():
        assert COMMANDS[command.name] is command and command.roles, kind


@pytest.mark.parametrize(
    ("person", "action"),
    [
        ("sara", "transfer:{ref}"),  # a school contact is offered no municipalities
        ("sara", "transfer:{ref}:GM0166"),
        ("sara", "claim:{ref}"),
        ("dirk", "details:{ref}"),  # the doorstroompunt: /case is theirs, but out of scope
        ("sara", "placed:{ref}"),
        ("sara", "fu:{ref}:0:ok"),
        ("wim", "round:complete:2026-10-01"),  # a broker has no forecasting round
    ],
)
def test_a_button_needs_the_role_of_its_command(
    core: Core, world: dict[str, str], person: str, action: str
) -> None:
    ref = world["zwolle"]
    before = case(core, ref)
    reply = one(press(core, person, action.format(ref=ref)))
    assert reply.error and not reply.buttons
    assert case(core, ref).version == before.version


def test_a_follow_up_is_answered_by_the_owner_only(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    """Fails if the owner check in followups.answer goes: fatima may see wim's case."""
    from tests.core.test_schedule import first_follow_up_asked

    c = first_follow_up_asked(core, frozen)
    before = case(core, c.ref)
    refused = one(press(core, "fatima", f"fu:{c.ref}:0:ok"))
    assert refused.error and "owner" in refused.text
    assert case(core, c.ref).version == before.version
    assert case(core, c.ref).followup_open == 0


ONE_OF_EACH_ROLE = {
    "coordinator": "anna",
    "broker": "wim",
    "school_contact": "sara",
    "doorstroompunt": "dirk",
}


@pytest.mark.parametrize("kind", sorted(BUTTONS))
def test_every_kind_of_button_is_refused_to_a_role_its_command_is_not_for(
    core: Core, world: dict[str, str], kind: str
) -> None:
    command = BUTTONS[kind]
    outsiders = [p for role, p in ONE_OF_EACH_ROLE.items() if role not in command.roles]
    ref = world["zwolle"]
    before = case(core, ref)
    for person in outsiders:
        reply = one(press(core, person, f"{kind}:{ref}:0:ok"))
        assert reply.error and f"/{command.name}" in reply.text, (kind, person)
    assert case(core, ref).version == before.version
