"""The region file's `teams:` key: a person's Microsoft Teams account (product.md section 9),
checked when the file is read and written into the directory by seeding and `region apply`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import clock
from bot.core.directory import apply_region, bind_teams_upn, region_changes, sync_region
from bot.region import Region
from bot.region_file import load_region
from bot.store.db import session_scope
from bot.store.models import Invite, Person
from tests.region.test_region import HEAD, assert_refused, write

GUID = "5f1c0d2e-6a7b-4c8d-9e0f-123456789abc"
OTHER_GUID = "0b6c1f4e-2d3a-4b5c-8d7e-9f0a1b2c3d4e"


def region_with(tmp_path: Path, *people: str) -> Region:
    lines = "".join(f"  - {p}\n" for p in people)
    return load_region(write(tmp_path, HEAD + "people:\n" + lines))


def test_an_object_id_or_a_sign_in_address_is_read_in_lower_case(tmp_path: Path) -> None:
    region = region_with(
        tmp_path,
        "{id: anna, name: Anna, roles: [coordinator], teams: " + GUID.upper() + "}",
        "{id: wim, name: Wim, roles: [broker], municipality: Zwolle, teams: Wim.Jansen@Zwolle.nl}",
        "{id: bram, name: Bram, roles: [broker], municipality: Kampen, slack: U01BRAM}",
    )
    assert [p.teams for p in region.people] == [GUID, "wim.jansen@zwolle.nl", None]


def test_a_malformed_teams_account_is_refused_with_its_line(tmp_path: Path) -> None:
    text = (
        HEAD + "people:\n"
        "  - {id: anna, name: Anna, roles: [coordinator]}\n"
        "  - id: wim\n"
        "    name: Wim\n"
        "    roles: [broker]\n"
        "    municipality: Zwolle\n"
        "    teams: wim@zwolle\n"
    )
    message = assert_refused(
        tmp_path, text, line=13, entry="people[1] (id: wim)", reason="not a Teams identity"
    )
    assert "Entra object id" in message and "name@domain" in message


def test_one_teams_account_for_two_people_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "people:\n"
        "  - {id: anna, name: Anna, roles: [coordinator], teams: anna@zwolle.nl}\n"
        "  - {id: dirk, name: Dirk, roles: [doorstroompunt], teams: Anna@Zwolle.nl}\n",
        line=9,
        entry="people[1] (id: dirk)",
        reason="teams identity anna@zwolle.nl is already used by 'anna'",
    )


def person(session: Session, person_id: str) -> Person:
    found = session.get(Person, person_id)
    assert found is not None
    return found


def test_seeding_and_applying_keep_a_resolved_address_resolved(
    engine: Engine, tmp_path: Path
) -> None:
    anna = "{id: anna, name: Anna, roles: [coordinator], teams: " + GUID + "}"
    wim = "{id: wim, name: Wim, roles: [broker], municipality: Zwolle, teams: wim@zwolle.nl}"
    with session_scope(engine) as session:
        sync_region(session, region_with(tmp_path, anna, wim))
    with session_scope(engine) as session:
        assert (person(session, "anna").teams_id, person(session, "anna").teams_upn) == (GUID, None)
        assert (person(session, "wim").teams_id, person(session, "wim").teams_upn) == (
            None,
            "wim@zwolle.nl",
        )
        bind_teams_upn(session, upn="wim@zwolle.nl", object_id=OTHER_GUID)
    # the same file again: nothing to change, and Wim stays resolved
    with session_scope(engine) as session:
        assert not region_changes(session, region_with(tmp_path, anna, wim))
        apply_region(session, region_with(tmp_path, anna, wim), actor_id="cli", transport="cli")
    with session_scope(engine) as session:
        assert person(session, "wim").teams_id == OTHER_GUID
    # another address for Wim: unresolved again; Anna gone from the file: her account freed
    moved = "{id: wim, name: Wim, roles: [broker], municipality: Zwolle, teams: w.jansen@zwolle.nl}"
    coordinator = "{id: kees, name: Kees, roles: [coordinator]}"
    with session_scope(engine) as session:
        changes = apply_region(
            session, region_with(tmp_path, moved, coordinator), actor_id="cli", transport="cli"
        )
        assert ("person", "wim", ["teams_id", "teams_upn"]) in changes.changed
    with session_scope(engine) as session:
        wim_now = person(session, "wim")
        assert (wim_now.teams_id, wim_now.teams_upn) == (None, "w.jansen@zwolle.nl")
        anna_now = person(session, "anna")
        assert not anna_now.active and anna_now.teams_id is None


def test_a_teams_account_bound_by_invite_is_kept_when_the_file_names_none(
    engine: Engine, tmp_path: Path
) -> None:
    anna = "{id: anna, name: Anna, roles: [coordinator]}"
    with session_scope(engine) as session:
        sync_region(session, region_with(tmp_path, anna))
        now = clock.now()
        anna_row = person(session, "anna")
        anna_row.teams_id = GUID
        session.add(anna_row)
        session.add(
            Invite(
                token="t",
                person_id="anna",
                created_by="anna",
                created_at=now,
                expires_at=now,
                used_at=now,
                used_by_teams_id=GUID,
            )
        )
    with session_scope(engine) as session:
        assert not region_changes(session, region_with(tmp_path, anna))
        sync_region(session, region_with(tmp_path, anna))
    with session_scope(engine) as session:
        assert person(session, "anna").teams_id == GUID
