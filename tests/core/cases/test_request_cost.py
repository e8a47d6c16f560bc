"""What one request costs the database, whatever the caseload (issue 16): a list asks the same
few queries for 3 cases as for a full page, whoever owns them; it decrypts no personal column
it does not show; a claim reads its case once; replay records arriving together are written
together; the delivery loop's look when nothing is due is one question. No timings: counts
of statements, which a slower machine does not change."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, update
from sqlmodel import col

from bot.core import clock
from bot.core.app import Core
from bot.core.messaging.delivery import deliver_pending
from bot.core.messaging.outbox import enqueue
from bot.core.replies import Reply
from bot.core.vocab import CaseState, Role
from bot.handlers.common import calls
from bot.handlers.common.dedupe import Dedupe, SeenEvents, SharedSeenEvents
from bot.handlers.common.who import who_by_id
from bot.store import crypto, queries
from bot.store.db import session_scope
from bot.store.models import Case
from tests.factories import make_leaver, one, press, say, text_of, trail


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` inside the block."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def brokers(core: Core) -> list[str]:
    with session_scope(core.engine) as session:
        return [p.id for p in queries.people_with_role(session, role=Role.broker)]


def leavers(core: Core, n: int, *, owners: list[str], state: CaseState) -> list[str]:
    """`n` leavers of De Brug (Zwolle) with consent and a name, in `state`, owned in turn by
    `owners` (none for due)."""
    refs = []
    for i in range(n):
        made = make_leaver(
            core, consent="given", name=f"Jesse Voorbeeld {i}", contact="06-12345678"
        )
        refs.append(made.ref)
        owner = owners[i % len(owners)] if owners else None
        with session_scope(core.engine) as session:
            session.execute(
                update(Case)
                .where(col(Case.ref) == made.ref)
                .values(state=state.value, owner_id=owner, due_at=clock.now() - timedelta(days=i))
            )
    return refs


def cost(core: Core, person: str, line: str) -> int:
    with statements(core.engine) as seen:
        reply = one(say(core, person, line))
    assert not reply.error, text_of(reply)
    return len(seen)


def test_leavers_asks_as_much_for_three_owners_as_for_one(core: Core) -> None:
    everyone = brokers(core)
    leavers(core, 3, owners=everyone[:1], state=CaseState.claimed)
    few = cost(core, "sara", "/leavers")
    leavers(core, 12, owners=everyone, state=CaseState.claimed)  # a page, owned by many
    many = cost(core, "sara", "/leavers")
    assert many == few
    page = one(say(core, "sara", "/leavers"))
    assert len(page.lines) == 15
    assert all("owner: " in line for line in page.lines)  # each line still names its owner


def test_the_queue_asks_as_much_for_a_full_page_as_for_three_cases(core: Core) -> None:
    leavers(core, 2, owners=[], state=CaseState.due)
    leavers(core, 1, owners=["wim"], state=CaseState.claimed)
    few = cost(core, "wim", "/cases")
    leavers(core, 8, owners=[], state=CaseState.due)
    leavers(core, 8, owners=["wim"], state=CaseState.claimed)
    many = cost(core, "wim", "/cases")
    assert many == few
    assert len(one(say(core, "wim", "/cases")).lines) == 15


def test_lists_decrypt_no_personal_column(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broker's or coordinator's list line shows no name, contact or notes: none is loaded,
    so none is decrypted; a school contact's shows the names of their own leavers only."""
    leavers(core, 4, owners=[], state=CaseState.due)
    leavers(core, 4, owners=["wim"], state=CaseState.claimed)
    decrypted: list[str] = []
    real = crypto.decrypt

    def counting(token: str) -> str:
        decrypted.append(token)
        return real(token)

    monkeypatch.setattr(crypto, "decrypt", counting)
    for person, line in (("wim", "/cases"), ("anna", "/leavers open")):
        reply = one(say(core, person, line))
        assert len(reply.lines) == 8, (person, line)
        assert "Jesse" not in text_of(reply)
    assert decrypted == []
    # a school contact's own leavers show their names (issue 22): only the names are read
    reply = one(say(core, "sara", "/leavers"))
    assert len(reply.lines) == 8 and all("Jesse Voorbeeld" in line for line in reply.lines)
    assert len(decrypted) == 8  # the name of each, read once (the audit is written after)
    assert not any("06-12345678" in real(token) for token in decrypted)
    # a case card still shows the name (it is read when it is shown)
    ref = leavers(core, 1, owners=[], state=CaseState.due)[0]
    assert "Jesse Voorbeeld 0" in text_of(one(say(core, "wim", f"/case {ref}")))


def test_a_school_contacts_list_is_read_once_and_its_audit_written_after(core: Core) -> None:
    """The names a school contact's /leavers shows are audited (one row per name, one
    statement), yet the list is read once: on SQLite as a reader, not rolled back and read
    again as a writer because of the audit; only the audit's short write takes the lock."""
    refs = leavers(core, 3, owners=[], state=CaseState.due)
    with statements(core.engine) as seen:
        reply = one(say(core, "sara", "/leavers"))
    assert all("Jesse Voorbeeld" in line for line in reply.lines)
    listing = [s for s in seen if s.startswith("SELECT cases.") and "ORDER BY" in s]
    assert len(listing) == 1
    assert len([s for s in seen if s.startswith("INSERT INTO audit")]) == 1
    if core.engine.dialect.name == "sqlite":
        assert seen.count("BEGIN IMMEDIATE") == 1  # the audit's write, after the reading
        assert seen.index("BEGIN IMMEDIATE") > seen.index(listing[0])
    for ref in refs:
        assert [e.action for e in trail(core, ref)].count("view_personal") == 1


def test_the_person_who_spoke_is_read_once(core: Core) -> None:
    """The transport reads the person to learn who spoke; the core works as that person
    without reading them again."""
    leavers(core, 2, owners=[], state=CaseState.due)
    who = who_by_id(core.engine, "wim", core.default_language)
    assert who is not None

    def by_id(seen: list[str]) -> list[str]:
        return [s for s in seen if "FROM person" in s and "person.id = " in s]

    with statements(core.engine) as seen:
        reply = one(asyncio.run(calls.typed(core, who, "/cases", transport="test")))
    assert len(reply.lines) == 2
    assert by_id(seen) == []
    # without the row (a transport that did not read it) the core reads it, as before
    with statements(core.engine) as seen:
        again = one(
            asyncio.run(calls.typed(core, replace(who, person=None), "/cases", transport="test"))
        )
    assert again.lines == reply.lines
    assert len(by_id(seen)) == 1


def test_a_claim_reads_its_case_once(core: Core) -> None:
    """A claim writes: it runs as a writer from the start, not first as a reader that is
    rolled back and run again (on SQLite); the case is looked up with the scope at once."""
    ref = leavers(core, 1, owners=[], state=CaseState.due)[0]
    with statements(core.engine) as seen:
        reply = one(press(core, "wim", f"claim:{ref}"))
    assert "You now own case" in text_of(reply)
    assert len([s for s in seen if s.startswith("SELECT cases.") and "cases.ref =" in s]) == 1
    assert len([s for s in seen if s.startswith("SELECT cases.")]) == 1  # not read back after
    assert not [s for s in seen if "count(" in s]  # the scope is part of that one look-up
    assert [s for s in seen if s.startswith("UPDATE cases")] != []
    # pressed again: refused, nothing written twice
    again = one(press(core, "fatima", f"claim:{ref}"))
    assert again.error
    # out of scope reads as unknown, as before
    away = one(say(core, "bram", f"/case {ref}"))
    assert away.error and "no case" in away.text


def test_replay_records_arriving_together_are_written_together(engine: Engine) -> None:
    """Twenty requests at once: their replay records go in one INSERT; another instance
    asking for the same ones afterwards learns that every one was taken."""

    async def ask(dedupe: Dedupe, ids: list[str]) -> list[bool]:
        return list(await asyncio.gather(*(dedupe.first_anywhere(i) for i in ids)))

    ids = [f"request:{n}" for n in range(20)]
    here = Dedupe(SeenEvents(), SharedSeenEvents(engine))
    with statements(engine) as seen:
        assert asyncio.run(ask(here, ids)) == [True] * 20
    assert len([s for s in seen if s.startswith("INSERT INTO slack_event")]) == 1
    there = Dedupe(SeenEvents(), SharedSeenEvents(engine))
    assert asyncio.run(ask(there, [*ids[:5], "request:new"])) == [False] * 5 + [True]
    # the same id asked twice at once on one instance: only one of the two takes it
    assert sorted(asyncio.run(ask(there, ["request:twice", "request:twice"]))) == [False, True]


def test_a_look_for_due_messages_when_none_are_due_reads_nobody_and_writes_nothing(
    core: Core,
) -> None:
    """The delivery loop looks every two seconds: with nothing due it asks one question, and
    neither reads the directory nor takes the write lock; with a message due, it sends it."""
    sent: list[tuple[str, str]] = []

    async def send(address: str, reply: Reply, *, outbox_id: int | None = None) -> None:
        sent.append((address, reply.text))

    def look() -> int:
        return asyncio.run(
            deliver_pending(core.engine, via="test", address_of=lambda p: p.id, send=send)
        )

    look()  # whatever the fixtures queued
    sent.clear()
    with statements(core.engine) as seen:
        assert look() == 0
    assert len(seen) <= 3  # (SQLite: BEGIN DEFERRED and the question; a COMMIT)
    assert not [s for s in seen if "FROM person" in s]
    assert not [s for s in seen if s.split()[0] in ("UPDATE", "INSERT", "DELETE")]
    assert "BEGIN IMMEDIATE" not in seen
    with session_scope(core.engine) as session:
        enqueue(session, person_id="wim", kind="test", reply=Reply(text="Er is nieuws"))
    assert look() == 1 and sent == [("wim", "Er is nieuws")]
