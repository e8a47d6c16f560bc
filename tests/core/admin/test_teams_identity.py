"""`/admin add` and `/admin change` take a person's Teams account: an Entra object id, or the
address they sign in with (kept unresolved until the Teams transport learns the object id)."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import Engine
from sqlmodel import select

from bot.core.app import Core
from bot.core.directory import bind_teams_upn, person_by_teams, sync_region
from bot.core.i18n import translator
from bot.region import Region
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Invite, Person
from tests.factories import one, press, say, text_of

GUID = "5f1c0d2e-6a7b-4c8d-9e0f-123456789abc"
OTHER_GUID = "0b6c1f4e-2d3a-4b5c-8d7e-9f0a1b2c3d4e"
NOT_AN_ACCOUNT = (
    "That is not a Teams account. Type the address they sign in to Microsoft 365 with "
    "(name@domain), or their Entra object id (like 5f1c0d2e-6a7b-4c8d-9e0f-123456789abc)."
)


def person(core: Core, person_id: str) -> Person | None:
    with session_scope(core.engine) as session:
        return session.get(Person, person_id)


def listed(core: Core, person_id: str) -> str:
    """The person's line in the coordinator's /admin people of Zwolle."""
    lines = one(say(core, "anna", "/admin people Zwolle")).lines
    return next(line for line in lines if f"({person_id})" in line)


def add_broker(core: Core, name: str, teams: str) -> list[str]:
    """/admin add up to the Teams question, then `teams`; the replies' texts."""
    say(core, "anna", "/admin add")
    for answer in (name, "broker", "Zwolle", "en", "skip"):
        say(core, "anna", answer)
    return [text_of(r) for r in say(core, "anna", teams)]


def test_a_broker_added_with_their_sign_in_address_waits_to_be_resolved(core: Core) -> None:
    replies = add_broker(core, "Jan de Vries", "Jan.de.Vries@Zwolle.nl")
    assert "Teams account: jan.de.vries@zwolle.nl" in replies[-1]  # the summary
    done = press(core, "anna", "form:confirm")
    assert len(done) == 1  # known on Teams: no invite link
    jan = person(core, "jan")
    assert jan is not None and (jan.teams_upn, jan.teams_id) == ("jan.de.vries@zwolle.nl", None)
    assert listed(core, "jan") == (
        "Jan de Vries (jan) · broker · Zwolle · Teams (not resolved yet: when they first "
        "write to the bot)"
    )
    with session_scope(core.engine) as session:
        assert session.exec(select(Invite).where(Invite.person_id == "jan")).first() is None
        # the Teams transport meets Jan: his object id is bound once
        bound = bind_teams_upn(session, upn="JAN.de.vries@zwolle.nl", object_id=GUID.upper())
        assert bound is not None and bound.id == "jan"
        assert bind_teams_upn(session, upn="jan.de.vries@zwolle.nl", object_id=OTHER_GUID) is None
    with session_scope(core.engine) as session:
        found = person_by_teams(session, GUID)
        assert found is not None and found.id == "jan"
        resolved = session.exec(select(AuditEvent).where(AuditEvent.action == "teams_resolved"))
        assert [e.detail for e in resolved.all()] == [{"id": "jan"}]
    assert listed(core, "jan") == "Jan de Vries (jan) · broker · Zwolle · Teams"


def test_a_broker_added_with_an_object_id_is_reachable_at_once(core: Core) -> None:
    add_broker(core, "Jan de Vries", "{" + GUID.upper() + "}")
    press(core, "anna", "form:confirm")
    jan = person(core, "jan")
    assert jan is not None and (jan.teams_id, jan.teams_upn) == (GUID, None)


@pytest.mark.parametrize("language", ["en", "nl"])
def test_a_malformed_teams_account_is_explained_and_changes_nothing(
    engine: Engine, region: Region, frozen: time_machine.Coordinates, language: str
) -> None:
    with session_scope(engine) as session:
        sync_region(session, region)
    core = Core(engine=engine, region=region, default_language=language)
    t = translator(language)
    for typed in ("jan@zwolle", "29:1f2e3d", GUID[:-1]):
        (asked_again,) = add_broker(core, "Jan de Vries", typed)
        assert t(NOT_AN_ACCOUNT) in asked_again  # and the question again
        if language == "nl":
            assert "Dat is geen Teams-account" in asked_again
        say(core, "anna", "/cancel")
    assert person(core, "jan") is None


def test_a_teams_account_of_someone_else_is_refused(core: Core) -> None:
    add_broker(core, "Jan de Vries", "jan@zwolle.nl")
    press(core, "anna", "form:confirm")
    add_broker(core, "Kees Mol", "JAN@zwolle.nl")
    refused = one(press(core, "anna", "form:confirm"))
    assert refused.error
    assert "That Teams account belongs to Jan de Vries (jan) already." in refused.text
    assert person(core, "kees") is None


def test_change_keeps_a_resolved_account_and_starts_a_new_address_unresolved(core: Core) -> None:
    add_broker(core, "Jan de Vries", "jan@zwolle.nl")
    press(core, "anna", "form:confirm")
    with session_scope(core.engine) as session:
        bind_teams_upn(session, upn="jan@zwolle.nl", object_id=GUID)

    summary = text_of(one(say(core, "anna", "/admin change jan")))
    assert "Teams account: jan@zwolle.nl" in summary
    press(core, "anna", "form:edit:municipality")
    say(core, "anna", "Kampen")
    one(press(core, "anna", "form:confirm"))
    jan = person(core, "jan")
    assert jan is not None and (jan.municipality_code, jan.teams_id) == ("GM0166", GUID)

    say(core, "anna", "/admin change jan")
    press(core, "anna", "form:edit:teams")
    say(core, "anna", "j.devries@kampen.nl")
    one(press(core, "anna", "form:confirm"))
    jan = person(core, "jan")
    assert jan is not None and (jan.teams_upn, jan.teams_id) == ("j.devries@kampen.nl", None)
    with session_scope(core.engine) as session:
        changed = session.exec(
            select(AuditEvent).where(AuditEvent.action == "person_changed")
        ).all()
        assert changed[-1].detail == {"id": "jan", "fields": ["teams_id", "teams_upn"]}
        assert "kampen.nl" not in str([e.detail for e in changed])  # names of fields only


def test_deactivating_frees_the_teams_account(core: Core) -> None:
    add_broker(core, "Jan de Vries", GUID)
    press(core, "anna", "form:confirm")
    say(core, "anna", "/admin deactivate jan")
    press(core, "anna", "cmd:admin deactivate jan yes")
    jan = person(core, "jan")
    assert jan is not None and not jan.active and jan.teams_id is None


def test_a_change_on_slack_keeps_the_teams_account_it_did_not_ask_about(core: Core) -> None:
    with session_scope(core.engine) as session:
        wim = session.get(Person, "wim")  # on Slack in the demo region
        assert wim is not None and wim.slack_id is not None
        wim.teams_upn = "wim@zwolle.nl"
        session.add(wim)
    say(core, "anna", "/admin change wim")
    press(core, "anna", "form:edit:municipality")
    say(core, "anna", "Kampen")
    one(press(core, "anna", "form:confirm"))
    wim_now = person(core, "wim")
    assert wim_now is not None and wim_now.municipality_code == "GM0166"
    assert wim_now.teams_upn == "wim@zwolle.nl"
