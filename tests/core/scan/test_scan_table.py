"""Who is at the scan's table, and the facilitator's say over the meeting: guests who see
nothing of the cases, groups named by any word, seating at the first vote, a stop that asks
first and a scan resumed where it was, only counts while a question is open, and a vote that
arrived before the close counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.core.commands import BUTTONS, COMMANDS
from bot.core.directory import sync_region
from bot.core.i18n import translator
from bot.core.replies import Reply
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Person, ScanParticipant, ScanVote
from tests.core.scan.test_scan import PLACE, all_text, confirmed, mark, scan, stop, vote, voting
from tests.factories import make_leaver, text_of


def guest_id(core: Core, name: str) -> str:
    with session_scope(core.engine) as session:
        return session.exec(select(Person).where(Person.name == name)).one().id


def seating(core: Core) -> dict[str, str]:
    with session_scope(core.engine) as session:
        rows = session.exec(select(ScanParticipant)).all()
        return {r.person_id: r.group_id for r in rows}


# --- guests (item 1) ----------------------------------------------------------------------------


def test_a_guest_is_added_in_one_step_votes_and_sees_nothing_of_the_cases(core: Core) -> None:
    leaver = make_leaver(core, name="Sam de Vries", consent="given", early_leaver="yes")
    secrets = [leaver.ref, leaver.student_ref, "Sam de Vries", "Sam"]
    message = voting(scan(core, "anna", "/scan start"))
    added = scan(core, "anna", "/scan guest Karin Bos werkgevers")
    assert "Karin Bos sits at the table for Employers." in all_text(added)
    table = next(r for r in added if r.title == "Who is at the table")
    assert "Employers: Karin Bos" in table.lines
    karin = guest_id(core, "Karin Bos")
    with session_scope(core.engine) as session:
        person = session.get(Person, karin)
        assert person is not None and person.roles == ["scan_guest"]
        added = session.exec(select(AuditEvent).where(AuditEvent.action == "scan_guest_added"))
        assert [(e.actor_id, e.detail) for e in added] == [("anna", {"id": karin})]
    # the guest votes like everyone (seated already: no question about the group)
    answer, shown = vote(core, karin, mark(message, 6))
    assert answer.text == "Your mark 6 is recorded. Only you see this." and not answer.buttons
    assert "Votes so far: 1." in text_of(shown)
    # every command of the table, typed with and without a case, and every kind of button:
    # nothing of a case is shown to the guest
    said: list[str] = []
    for name in COMMANDS:
        for args in ("", leaver.ref, f"{leaver.ref} Kampen", "open", "Sam", "people"):
            for private in (True, False):
                replies = core.handle_text(
                    person_id=karin,
                    text=f"/{name} {args}".strip(),
                    transport="test",
                    private=private,
                    place=None if private else PLACE,
                )
                said += [text_of(r) + str(r.file or "") for r in replies]
    for kind in BUTTONS:
        for rest in (leaver.ref, f"{leaver.ref}:GM0166", "1:1"):
            replies = core.handle_action(person_id=karin, action=f"{kind}:{rest}", transport="test")
            said += [text_of(r) + str(r.file or "") for r in replies]
    for secret in secrets:
        assert not any(secret in text for text in said), secret
    # only /help and /scan are theirs
    helped = core.handle_text(person_id=karin, text="/help", transport="test")
    assert [line.split(" ")[0] for line in helped[0].lines] == ["/help", "/scan"]


def test_a_guest_of_an_earlier_scan_is_the_same_person_and_a_region_apply_keeps_them(
    core: Core,
) -> None:
    scan(core, "anna", "/scan start")
    scan(core, "anna", "/scan guest Karin Bos, zorg")
    stop(core)
    scan(core, "anna", "/scan start")
    scan(core, "anna", "/scan guest Karin Bos UWV")
    with session_scope(core.engine) as session:
        guests = session.exec(select(Person).where(Person.name == "Karin Bos")).all()
        assert len(guests) == 1
        sync_region(session, core.region)  # the region file applied again
        assert session.get(Person, guests[0].id).active  # type: ignore[union-attr]
    assert seating(core)[guest_id(core, "Karin Bos")] == "other"


def test_a_guest_needs_a_name_and_a_group(core: Core) -> None:
    scan(core, "anna", "/scan start")
    for bad in ("/scan guest", "/scan guest Karin", "/scan guest werkgevers"):
        refused = scan(core, "anna", bad)
        assert len(refused) == 1 and refused[0].error
        assert "Use: /scan guest NAME GROUP, with a group: Schools, mainly" in refused[0].text
    assert scan(core, "wim", "/scan guest Karin zorg")[0].error  # not the facilitator
    assert seating(core) == {}


def test_a_slack_member_mentioned_becomes_a_guest_with_that_account(core: Core) -> None:
    scan(core, "anna", "/scan start")
    scan(core, "anna", "/scan guest <@U0KARIN|karin.bos> Karin Bos zorg")
    scan(core, "anna", "/scan guest <@U0PIET|piet> werkgevers")
    scan(core, "anna", "/scan guest <@U01WIM|wim> scholen")  # in the directory: seated
    with session_scope(core.engine) as session:
        karin = session.exec(select(Person).where(Person.slack_id == "U0KARIN")).one()
        piet = session.exec(select(Person).where(Person.slack_id == "U0PIET")).one()
        assert (karin.name, karin.roles, piet.name) == ("Karin Bos", ["scan_guest"], "piet")
    assert seating(core) == {karin.id: "care", piet.id: "employers", "wim": "schools"}


def test_a_guest_in_a_telegram_group_gets_a_link_that_joins_the_scan_only(core: Core) -> None:
    from bot.core import invites

    group = "telegram:-1005550001"
    scan(core, "anna", "/scan start", place=group)
    added = scan(core, "anna", "/scan guest Karin Bos zorg", place=group)
    link = next(r for r in added if "/start " in r.text)
    assert link.personal and not link.to_place  # to the facilitator alone
    assert "joins their Telegram account to this scan as a guest" in link.text
    token = link.text.rsplit("/start ", 1)[1].strip()
    welcome = invites.redeem(core.engine, token=token, telegram_id=555, language="en")
    assert "You take part in the Participatiescan as a guest" in welcome[0].text
    with session_scope(core.engine) as session:
        karin = session.exec(select(Person).where(Person.telegram_id == 555)).one()
        assert karin.roles == ["scan_guest"]


# --- groups by any word (item 2) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "group"),
    [
        ("scholen", "schools"),
        ("sociale dienst", "social_services"),
        ("werkbedrijf", "social_services"),
        ("leerplicht", "compulsory_education"),
        ("RMC", "compulsory_education"),
        ("werkgevers", "employers"),
        ("WSP", "employers"),
        ("SBB", "employers"),
        ("zorg", "care"),
        ("MEE", "care"),
        ("jeugdzorg", "care"),
        ("UWV", "other"),
        ("overig", "other"),
        ("care", "care"),
        ("school", "schools"),
    ],
)
def test_a_group_is_named_by_any_word_of_its_label(core: Core, typed: str, group: str) -> None:
    scan(core, "anna", "/scan start")
    named = scan(core, "anna", f"/scan group wim {typed}")
    assert not any(r.error for r in named), named
    assert seating(core) == {"wim": group}


def test_the_usage_names_the_groups_in_the_persons_language_never_their_ids(
    core: Core,
) -> None:
    scan(core, "anna", "/scan start")
    with session_scope(core.engine) as session:
        anna = session.get(Person, "anna")
        assert anna is not None
        anna.language = "nl"
        session.add(anna)
    refused = scan(core, "anna", "/scan group wim bakkerij")
    assert refused[0].error
    nl = translator("nl")
    assert refused[0].text == nl(
        "Use: {usage}, with a group: {groups}.",
        usage=nl("/scan group PERSON GROUP"),
        groups="Scholen, vooral VSO, Pro en MBO; Sociale dienst of werkbedrijf; Leerplicht of "
        "RMC; Werkgevers, werkgeversservicepunt (WSP) of SBB; Zorg, bijvoorbeeld MEE of "
        "jeugdzorg; Overig, bijvoorbeeld UWV of een regionale organisatie",
    )
    for internal in ("schools", "social_services", "compulsory_education", "care"):
        assert internal not in refused[0].text


# --- seated at the first vote, moves said (item 3) ----------------------------------------------


def test_a_voter_not_seated_is_asked_for_their_group_at_the_first_vote(core: Core) -> None:
    message = voting(scan(core, "anna", "/scan start"))
    answer, question, _ = vote(core, "wim", mark(message, 7))
    assert "Your mark 7 is recorded" in answer.text and not answer.to_place
    assert question.text == "For which group do you sit at the table?"
    assert not question.to_place
    assert [b.label for b in question.buttons] == [
        "Schools",
        "Social services / work company",
        "Compulsory education / RMC",
        "Employers",
        "Care",
        "Other",
    ]
    seated = vote(core, "wim", question.buttons[4].action)  # one tap: Care
    assert "Wim Jansen sits at the table for Care." in all_text(seated)
    table = next(r for r in seated if r.title == "Who is at the table")
    assert table.to_place and "Care: Wim Jansen" in table.lines
    assert "Care, for example MEE" not in table.text  # no longer missing
    again = vote(core, "wim", mark(message, 8))  # seated now: not asked again
    assert len(again) == 2 and not again[0].buttons
    # the facilitator moves him: said so
    moved = scan(core, "anna", "/scan group wim scholen")
    assert "Wim Jansen now sits at Schools (was: Care)." in all_text(moved)


# --- stop asks first, resume (item 6) -----------------------------------------------------------


def test_stop_asks_first_saying_what_is_left_and_a_stopped_scan_resumes(core: Core) -> None:
    scan(core, "anna", "/scan start")
    message = voting(confirmed(core, "/scan next"))
    vote(core, "wim", mark(message, 4))
    asked = scan(core, "anna", "/scan stop")
    assert len(asked) == 1 and not asked[0].to_place
    assert asked[0].text == "You stop at factor 1 of 15; 14 more factors and no agenda."
    assert [b.label for b in asked[0].buttons] == ["Stop the scan", "Carry on"]
    nl = translator("nl")
    dutch = nl.tn(
        "You stop at factor {factor} of {total}; {n} more factor",
        "You stop at factor {factor} of {total}; {n} more factors",
        14,
        factor=1,
        total=15,
    )
    assert f"{dutch} {nl('and no agenda.')}" == (
        "Je stopt bij factor 1 van 15; nog 14 factoren en geen agenda."
    )
    kept = vote(core, "anna", asked[0].buttons[1].action)
    assert kept[0].text == "The scan goes on."
    assert not scan(core, "anna", "/scan results")[0].error  # still open
    ended = vote(core, "anna", asked[0].buttons[0].action)
    assert "Results of the scan" in all_text(ended)
    assert scan(core, "anna", "/scan next")[0].error  # stopped
    # resumed: where it was, voting on factor 1 open again with its vote
    resumed = scan(core, "wim", "/scan resume")
    assert resumed[0].error  # the facilitator's
    resumed = scan(core, "anna", "/scan resume")
    assert "The scan goes on where it was." in all_text(resumed)
    again = voting(resumed)
    assert "Factor 1 of 15" in (again.title or "") and "Votes so far: 1." in text_of(again)
    vote(core, "fatima", mark(again, 6))
    assert "Factor 2 of 15" in all_text(scan(core, "anna", "/scan next"))


def test_an_interrupted_scan_resumes_showing_where_it_stands(core: Core) -> None:
    assert scan(core, "anna", "/scan resume")[0].error  # nothing held here yet
    message = voting(scan(core, "anna", "/scan start"))
    vote(core, "wim", mark(message, 4))
    resumed = scan(core, "anna", "/scan resume")
    assert "Votes so far: 1." in text_of(voting(resumed))


# --- counts only while open; the warm-up's result; nobody voted (item 7) -----------------------


def test_an_open_question_shows_its_count_never_its_average(core: Core) -> None:
    message = voting(scan(core, "anna", "/scan start"))
    for person, value in (("wim", 3), ("fatima", 9)):
        vote(core, person, mark(message, value))
    shown = all_text(scan(core, "bram", "/scan results"))
    assert "average" not in shown and "6.0" not in shown
    assert "The question being voted on has 2 votes so far" in shown
    closed = scan(core, "anna", "/scan close")
    assert "Result: average 6.0 · spread 3.0 · 2 votes" in text_of(closed[0])
    # factor 1 open: the warm-up's result shows, factor 1's average does not
    factor = voting(scan(core, "anna", "/scan next"))
    vote(core, "wim", mark(factor, 2))
    shown = all_text(scan(core, "bram", "/scan results"))
    assert "Warm-up: average 6.0" in shown and "Werkend leren: average" not in shown


def test_closing_a_question_nobody_voted_on_asks_first(core: Core) -> None:
    scan(core, "anna", "/scan start")
    for command in ("/scan close", "/scan next"):
        asked = scan(core, "anna", command)
        assert len(asked) == 1 and not asked[0].to_place
        assert asked[0].text == "Nobody has voted yet — go on anyway?"
        assert [b.label for b in asked[0].buttons] == ["Go on anyway", "Wait"]
    assert translator("nl")("Nobody has voted yet — go on anyway?") == (
        "Nog niemand heeft gestemd — toch door?"
    )
    waited = vote(core, "anna", asked[0].buttons[1].action)
    assert "Votes so far: 0" in all_text(scan(core, "anna", "/scan resume"))
    assert waited[0].text == "The scan goes on."
    went = vote(core, "anna", asked[0].buttons[0].action)
    assert "Factor 1 of 15" in all_text(went)
    stale = vote(core, "anna", asked[0].buttons[0].action)  # pressed again: moved on
    assert stale[0].error and "moved on" in stale[0].text


# --- a vote that arrived before the close counts (item 8) ---------------------------------------


def test_a_vote_that_arrived_before_the_close_counts_when_worked_on_after_it(
    core: Core,
) -> None:
    message = voting(scan(core, "anna", "/scan start"))
    vote(core, "wim", mark(message, 5))
    before = clock.now() - timedelta(milliseconds=5)
    core.handle_text(
        person_id="anna", text="/scan close", transport="test", private=False, place=PLACE
    )
    late = core.handle_action(
        person_id="fatima",
        action=mark(message, 7),
        transport="test",
        private=False,
        place=PLACE,
        arrived=before,
    )
    assert "Your mark 7 is recorded" in late[0].text
    assert "Voting closed: 2 votes." in text_of(voting_shown(late))
    after = vote(core, "bram", mark(message, 9))  # arrived after the close: refused
    assert after[0].error and "not recorded" in after[0].text
    with session_scope(core.engine) as session:
        assert sorted(v.mark for v in session.exec(select(ScanVote)).all()) == [5, 7]


def voting_shown(replies: list[Reply]) -> Reply:
    return next(r for r in replies if r.to_place and (r.updates or "").endswith(":f0"))


def test_a_guest_can_own_an_action(core: Core) -> None:
    from bot.core.intake.fields import ParseEnv
    from bot.core.scan.agenda import owner_id, parse_owner

    scan(core, "anna", "/scan start")
    scan(core, "anna", "/scan guest Karin Bos werkgevers")
    with session_scope(core.engine) as session:
        env = ParseEnv(t=translator("en"), today=clock.today(core.region.tz), session=session)
        owner = parse_owner("Karin Bos", env)
    assert owner_id(owner) == guest_id(core, "Karin Bos")


def test_the_region_file_knows_every_role_but_a_scans_guest() -> None:
    from typing import get_args

    from bot.core.vocab import Role
    from bot.region_entries import FileRole

    assert set(get_args(FileRole)) == {r.value for r in Role} - {Role.scan_guest.value}
