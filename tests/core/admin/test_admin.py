"""`/admin` in the chat (the terminal and the core): the directory, facilitators, and privacy
requests, with a refusal for everyone who is not the coordinator."""

from __future__ import annotations

import io
import json

import pytest
from sqlmodel import select

from bot.core.app import Core
from bot.handlers.terminal import TerminalChat
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Invite, Municipality, Person, ScanFacilitator, School
from tests.factories import case, make_leaver, one, press, say, text_of, trail
from tests.handlers.test_terminal import chat, number

NOT_FOR_YOU = "/admin is not for your role. Type /help."


def person(core: Core, person_id: str) -> Person:
    with session_scope(core.engine) as session:
        found = session.get(Person, person_id)
        assert found is not None
        return found


def directory_events(core: Core) -> list[AuditEvent]:
    with session_scope(core.engine) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.case_ref == None)  # noqa: E711
                .order_by(AuditEvent.id)  # type: ignore[arg-type]
            ).all()
        )


def personal_leaver(core: Core) -> str:
    c = make_leaver(
        core,
        consent="given",
        name="Jesse Voorbeeld",
        contact="06-12345678",
        notes="wil hovenier worden",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    return c.ref


@pytest.mark.parametrize("who", ["bram", "sara", "dirk"])
def test_every_admin_command_is_refused_to_other_roles_and_changes_nothing(
    core: Core, who: str
) -> None:
    ref = personal_leaver(core)
    before = len(directory_events(core)), len(trail(core, ref))
    for line in [
        "/admin people",
        "/admin add",
        "/admin change sara",
        "/admin deactivate wim",
        "/admin facilitator wim",
        "/admin invite wim",
        "/admin schools add",
        "/admin municipalities",
        f"/admin export {ref}",
        f"/admin erase {ref}",
        f"/admin audit {ref}",
    ]:
        reply = one(say(core, who, line))
        assert reply.error and reply.text == NOT_FOR_YOU, line
    # a button of an erase confirmation does not work for them either
    refused = one(press(core, who, f"cmd:admin erase {ref} yes"))
    assert refused.error and refused.text == NOT_FOR_YOU
    assert case(core, ref).name == "Jesse Voorbeeld"
    assert person(core, "wim").active
    assert (len(directory_events(core)), len(trail(core, ref))) == before
    assert "/admin" not in text_of(one(say(core, who, "/help")))


def test_onboarding_a_new_broker_in_the_terminal(core: Core) -> None:
    terminal = TerminalChat(core, io.StringIO(), io.StringIO(), interactive=False)
    out = chat(core, "/as anna\n/admin add\nJan de Vries\nmakelaar\nbroker\nKampn", terminal)
    assert "Choose roles from: broker, school contact, coordinator" in out
    assert "Kampn is not a municipality of this region." in out
    out = chat(core, number(out, "Kampen"), terminal)  # the suggestion's button
    out = chat(core, number(out, "English") + "\nskip", terminal)
    assert "Microsoft Teams" in out  # not on Slack: asked for Teams next
    out = chat(core, "skip", terminal)
    assert "Is this right?" in out
    assert "Roles: broker" in out and "Municipality: Kampen" in out and "Language: English" in out
    out = chat(core, "confirm", terminal)
    assert "Jan de Vries is in the directory now, as broker (id jan)." in out
    # no Slack member, no Teams account: an invite for Telegram, single-use and expiring
    with session_scope(core.engine) as session:
        invite = session.exec(select(Invite).where(Invite.person_id == "jan")).one()
        assert invite.used_at is None and invite.expires_at > invite.created_at
    assert f"/start {invite.token}" in out
    jan = person(core, "jan")
    assert (jan.name, jan.roles, jan.municipality_code, jan.language) == (
        "Jan de Vries",
        ["broker"],
        "GM0166",
        "en",
    )
    # the new broker works at once: a due case of Kampen is in his queue
    urgent = make_leaver(
        core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11"
    )
    assert urgent.ref in text_of(one(say(core, "jan", "/cases")))
    # sixteen people now: the list comes in two pages
    first = one(say(core, "anna", "/admin people"))
    assert first.title == "People (16)" and first.text == "Page 1 of 2"
    second = one(press(core, "anna", first.buttons[0].action))
    assert second.lines == ["Wim Jansen (wim) · broker · Zwolle · Slack"]
    added = [e for e in directory_events(core) if e.action == "person_added"]
    assert [e.detail["id"] for e in added] == ["jan"] and added[0].actor_id == "anna"
    assert "Jan" not in json.dumps([e.detail for e in directory_events(core)])  # ids, no names


def test_adding_someone_with_a_slack_member_of_someone_else_is_refused(core: Core) -> None:
    say(core, "anna", "/admin add")
    for answer in ("Kees", "coordinator", "nl", "<@U01BRAM|bram>"):
        say(core, "anna", answer)
    refused = one(press(core, "anna", "form:confirm"))
    assert (
        refused.error and "That Slack member belongs to Bram Bakker (bram) already." in refused.text
    )
    with session_scope(core.engine) as session:
        assert session.get(Person, "kees") is None


def test_moving_a_school_contact_to_another_school(core: Core) -> None:
    on_vlinder = make_leaver(core, school="vlinder", by="mila")
    summary = one(say(core, "anna", "/admin change sara"))
    assert "School: Praktijkschool De Brug" in text_of(summary)  # straight to the summary
    question = one(press(core, "anna", "form:edit:school"))
    assert "At which school?" in question.text
    summary = one(say(core, "anna", "VSO De Vlinderboom"))
    assert "School: VSO De Vlinderboom" in text_of(summary)
    done = one(press(core, "anna", "form:confirm"))
    assert done.text == "Sara Smit is changed."
    assert person(core, "sara").school_id == "vlinder"
    assert on_vlinder.ref in text_of(one(say(core, "sara", "/leavers")))
    [event] = [e for e in directory_events(core) if e.action == "person_changed"]
    assert event.detail == {"id": "sara", "fields": ["school_id"]}


def test_deactivating_a_broker_lists_open_cases_until_they_are_handed_over(core: Core) -> None:
    ref = make_leaver(
        core, home_municipality="Kampen", early_leaver="yes", expected_exit="2026-11"
    ).ref
    say(core, "bram", f"/claim {ref}")
    listed = one(say(core, "anna", "/admin deactivate bram"))
    assert listed.error and "Bram Bakker still has open cases" in (listed.title or "")
    assert ref in text_of(listed) and f"transfer:{ref}" in [b.action for b in listed.buttons]
    assert person(core, "bram").active  # nothing changed
    say(core, "anna", f"/transfer {ref} @wim leaving")
    say(core, "wim", f"/claim {ref}")
    done = one(say(core, "anna", "/admin deactivate bram"))
    assert "Bram Bakker is deactivated" in done.text
    assert not person(core, "bram").active
    # treated like someone not in the directory, and gone from the lists
    assert "not in the directory" in one(say(core, "bram", "/cases")).text
    assert "bram" not in text_of(one(say(core, "anna", "/admin people")))
    # nothing lost: the case and its history stay, with its new owner
    assert case(core, ref).owner_id == "wim"
    assert {"claim", "transfer"} <= {e.action for e in trail(core, ref)}
    assert directory_events(core)[-1].detail == {"id": "bram"}


def test_a_deactivated_person_can_be_reactivated_with_their_roles(core: Core) -> None:
    assert "Nobody is deactivated" in one(say(core, "anna", "/admin reactivate")).text
    refused = one(say(core, "anna", "/admin reactivate bram"))
    assert refused.error and "active already" in refused.text
    say(core, "anna", "/admin deactivate bram")
    listed = one(say(core, "anna", "/admin reactivate"))  # whom? the deactivated are named
    assert listed.error and "Bram Bakker (bram)" in listed.text
    assert "nobody" in one(say(core, "anna", "/admin reactivate astronaut")).text.casefold()
    assert one(say(core, "bram", "/reactivate bram")).error  # not for anyone else
    done = one(say(core, "anna", "/admin reactivate Bram Bakker"))
    assert not done.error and "/admin invite bram" in done.text
    again = person(core, "bram")
    assert again.active and again.roles == ["broker"] and again.municipality_code
    assert again.slack_id is None  # unlinked when deactivated: linked again on purpose
    assert "bram" in text_of(one(say(core, "anna", "/admin people")))
    assert [e.action for e in directory_events(core)][-2:] == [
        "person_deactivated",
        "person_reactivated",
    ]
    assert directory_events(core)[-1].detail == {"id": "bram"}


def test_the_last_coordinator_stays(core: Core) -> None:
    refused = one(say(core, "anna", "/admin deactivate anna"))
    assert refused.error and "Anna de Vries is the last coordinator" in refused.text
    say(core, "anna", "/admin change anna")
    press(core, "anna", "form:edit:roles")
    say(core, "anna", "broker")
    say(core, "anna", "Zwolle")
    refused = one(press(core, "anna", "form:confirm"))
    assert refused.error and "last coordinator" in refused.text
    assert person(core, "anna").roles == ["coordinator"] and person(core, "anna").active
    # with a second coordinator, Anna may go
    say(core, "anna", "/admin change dirk")
    press(core, "anna", "form:edit:roles")
    say(core, "anna", "coordinator, RMC doorstroompunt")
    assert person(core, "dirk").roles == ["doorstroompunt"]  # not before confirming
    one(press(core, "anna", "form:confirm"))
    assert person(core, "dirk").roles == ["coordinator", "doorstroompunt"]
    assert "deactivated" in one(say(core, "dirk", "/admin deactivate anna")).text


def test_people_filtered_by_role_or_municipality(core: Core) -> None:
    brokers = one(say(core, "anna", "/admin people broker"))
    assert brokers.title == "People (7)"
    assert all(" · broker · " in line for line in brokers.lines)
    kampen = one(say(core, "anna", "/admin people Kampen"))
    assert kampen.lines == ["Bram Bakker (bram) · broker · Kampen · Slack"]
    school = one(say(core, "anna", "/admin people brug"))
    assert [line.split(" · ")[0] for line in school.lines] == ["Sara Smit (sara)"]
    wrong = one(say(core, "anna", "/admin people astronaut"))
    assert wrong.error and "astronaut is not a role, municipality or school" in wrong.text


def test_facilitator_lets_someone_run_the_scan(core: Core) -> None:
    place = "terminal"
    before = core.handle_text(
        person_id="wim", text="/scan start", transport="test", private=False, place=place
    )
    assert before[0].error
    assert one(say(core, "anna", "/admin facilitator wim")).text == "Wim Jansen may now run a scan."
    with session_scope(core.engine) as session:
        assert session.get(ScanFacilitator, "wim") is not None
    started = core.handle_text(
        person_id="wim", text="/scan start", transport="test", private=False, place=place
    )
    assert not any(r.error for r in started)
    assert directory_events(core)[-1].action == "facilitator_named"


def test_invite_is_single_use(core: Core) -> None:
    from bot.core.invites import redeem

    reply = one(say(core, "anna", "/admin invite Henk"))
    with session_scope(core.engine) as session:
        token = session.exec(select(Invite).where(Invite.person_id == "henk")).one().token
    assert token in reply.text
    assert "Welcome" in redeem(core.engine, token=token, telegram_id=555, language="en")[0].text
    again = redeem(core.engine, token=token, telegram_id=556, language="en")[0]
    assert again.error and "used already" in again.text


def test_export_sends_a_file_with_everything_stored_field_by_field(core: Core) -> None:
    ref = personal_leaver(core)
    say(core, "wim", f"/case {ref}")  # a view of the personal details
    reply = one(say(core, "anna", f"/admin export {ref}"))
    assert reply.personal and reply.file_name == f"vangnet-{ref}.json"
    assert reply.file is not None
    data = json.loads(reply.file)
    c = case(core, ref)
    for field in ("ref", "student_ref", "school_id", "name", "contact", "notes", "state"):
        assert data[field] == getattr(c, field), field
    assert data["name"] == "Jesse Voorbeeld"
    assert data["contact"] == "06-12345678"
    assert data["notes"] == "wil hovenier worden"
    assert data["consent"] == "given"
    assert data["home_municipality_code"] == "GM0193"
    assert data["programme"] == "pro"
    assert data["expected_exit"] == "2026-11-01"
    assert data["early_leaver"] is True
    actions = [e["action"] for e in data["audit_trail"]]
    assert actions[0] == "register" and "view_personal" in actions
    assert data["messages"] and all(m["to"] for m in data["messages"])
    summary = text_of(reply)
    assert "Name: Jesse Voorbeeld" in summary and "School: Praktijkschool De Brug" in summary
    assert trail(core, ref)[-1].action == "export" and trail(core, ref)[-1].actor_id == "anna"


def test_erase_asks_with_a_button_and_then_nothing_personal_is_left(core: Core) -> None:
    ref = personal_leaver(core)
    question = one(say(core, "anna", f"/admin erase {ref}"))
    assert "This cannot be undone." in question.text
    erase, cancel = question.buttons
    assert erase.style == "danger"
    assert case(core, ref).name == "Jesse Voorbeeld"  # asking erased nothing
    assert one(press(core, "anna", cancel.action)).text == "Nothing erased."
    assert case(core, ref).name == "Jesse Voorbeeld"
    done = one(press(core, "anna", erase.action))
    assert done.text == f"The personal data of case {ref} is erased."
    export = one(say(core, "anna", f"/admin export {ref}"))
    assert export.file is not None
    stored = export.file.decode()
    for personal in ("Jesse", "06-12345678", "hovenier"):
        assert personal not in stored and personal not in text_of(export)
    data = json.loads(stored)
    assert data["name"] is None and data["contact"] is None and data["notes"] is None
    assert data["personal_data_erased_at"] is not None
    assert "erase_personal" in [e["action"] for e in data["audit_trail"]]


def test_audit_trail_shows_who_did_and_saw_what_paged(core: Core) -> None:
    ref = personal_leaver(core)
    say(core, "wim", f"/claim {ref}")
    for _ in range(15):
        say(core, "wim", f"/case {ref}")
    first = one(say(core, "anna", f"/admin audit {ref}"))
    assert first.title == f"Audit trail of case {ref}" and first.text == "Page 1 of 2"
    assert "Sara Smit (sara) · registered" in first.lines[0]
    assert any("Wim Jansen (wim) · claimed" in line for line in first.lines)
    assert any("Wim Jansen (wim) · saw the personal details" in line for line in first.lines)
    [more] = first.buttons
    second = one(press(core, "anna", more.action))
    assert second.text == "Page 2 of 2" and not second.buttons
    assert len(first.lines) + len(second.lines) == len(trail(core, ref))
    unknown = one(say(core, "anna", "/admin audit ZZZZ"))
    assert unknown.error and unknown.text == "There is no case ZZZZ."


def test_schools_and_municipalities_added_and_changed(core: Core) -> None:
    say(core, "anna", "/admin municipalities add")
    assert "GM and four digits" in one(say(core, "anna", "GM12")).text
    assert "already" in one(say(core, "anna", "GM0193")).text
    say(core, "anna", "GM0200")
    say(core, "anna", "Apeldoorn")
    assert (
        one(press(core, "anna", "form:confirm")).text
        == "Apeldoorn (GM0200) is in the directory now."
    )
    say(core, "anna", "/admin schools add")
    say(core, "anna", "anker")
    say(core, "anna", "Het Anker")
    say(core, "anna", "vso")
    say(core, "anna", "Apeldoorn")
    assert (
        "Het Anker is in the directory now (code anker)."
        in one(press(core, "anna", "form:confirm")).text
    )
    say(core, "anna", "/admin schools change anker")
    press(core, "anna", "form:edit:municipality")
    say(core, "anna", "Zwolle")
    one(press(core, "anna", "form:confirm"))
    say(core, "anna", "/admin municipalities change GM0200")
    press(core, "anna", "form:edit:name")
    say(core, "anna", "Gemeente Apeldoorn")
    one(press(core, "anna", "form:confirm"))
    with session_scope(core.engine) as session:
        school = session.get(School, "anker")
        assert school is not None and (school.type, school.municipality_code) == ("vso", "GM0193")
        m = session.get(Municipality, "GM0200")
        assert m is not None and m.name == "Gemeente Apeldoorn"
    assert "Het Anker (anker) · VSO · Zwolle" in one(say(core, "anna", "/admin schools")).lines
    assert [(e.action, e.detail["id"]) for e in directory_events(core)] == [
        ("municipality_added", "GM0200"),
        ("school_added", "anker"),
        ("school_changed", "anker"),
        ("municipality_changed", "GM0200"),
    ]
    wrong = one(say(core, "anna", "/admin schools change nowhere"))
    assert wrong.error and "nowhere is not a school of this region." in wrong.text
    assert one(say(core, "anna", "/admin frobnicate")).error
