"""Readers and writers (issue 14 item 4): while a long write holds SQLite's write lock, what
only reads is answered at once; what writes waits its turn and is then saved whole. Writers
of one process take turns on a gate of their own, not on SQLite's polling busy handler."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, insert, text
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.store.db import ReaderWrote, make_engine, run_unit, session_scope, write_after_read
from bot.store.models import Person, Task
from tests.factories import make_leaver


def test_commands_that_only_read_are_answered_during_a_long_write(core: Core) -> None:
    case = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    with core.engine.connect() as long_write:  # an import, half-way through its rows
        transaction = long_write.begin()
        long_write.execute(
            insert(Task).values(
                kind="import", payload={}, due_at=clock.now(), created_at=clock.now()
            )
        )
        cases = core.handle_text(person_id="wim", text="/cases", transport="test")
        helped = core.handle_text(person_id="wim", text="/help", transport="test")
        transaction.rollback()
    assert case.ref in str(cases)
    assert "/claim REF" in str(helped)
    # once the write is over, a command that writes goes through, all of it
    claimed = core.handle_text(person_id="wim", text=f"/claim {case.ref}", transport="test")
    assert not any(r.error for r in claimed)
    claimed_again = core.handle_text(
        person_id="fatima", text=f"/claim {case.ref}", transport="test"
    )
    assert any(r.error for r in claimed_again)


def test_a_reader_that_writes_is_stopped_and_a_unit_that_writes_is_saved(core: Core) -> None:
    if core.engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL readers and writers are alike")
    with pytest.raises(ReaderWrote), session_scope(core.engine, write=False) as session:
        session.execute(text("UPDATE person SET name = 'X' WHERE id = 'wim'"))
    with session_scope(core.engine) as session:
        assert session.get(Person, "wim").name == "Wim Jansen"  # type: ignore[union-attr]

    def rename(session):  # type: ignore[no-untyped-def]
        names = [p.name for p in session.exec(select(Person).where(Person.id == "wim"))]
        session.execute(text("UPDATE person SET name = 'Wim J.' WHERE id = 'wim'"))
        return names

    assert run_unit(core.engine, rename) == ["Wim Jansen"]
    with session_scope(core.engine) as session:
        assert session.get(Person, "wim").name == "Wim J."  # type: ignore[union-attr]


@pytest.fixture
def impatient(core: Core) -> Iterator[Engine]:
    """An engine on the same SQLite database whose connections never wait in SQLite's busy
    handler: a writer that meets the write lock there fails at once ("database is locked")."""
    if core.engine.dialect.name != "sqlite":
        pytest.skip("the writers' gate is SQLite's")
    other = make_engine(core.engine.url.render_as_string(hide_password=False))
    event.listen(other, "connect", lambda conn, _record: conn.execute("PRAGMA busy_timeout=0"))
    yield other
    other.dispose()


def _write(
    engine: Engine, name: str, errors: list[BaseException], started: threading.Event | None = None
) -> None:
    if started is not None:
        started.set()
    try:
        with session_scope(engine) as session:
            session.execute(text("UPDATE person SET name = :n WHERE id = 'wim'"), {"n": name})
    except BaseException as exc:
        errors.append(exc)


def test_writers_of_one_process_take_turns_instead_of_failing_busy(impatient: Engine) -> None:
    started = threading.Event()
    errors: list[BaseException] = []
    with session_scope(impatient) as first:  # a writer half-way through
        first.execute(text("UPDATE person SET name = 'First' WHERE id = 'wim'"))
        second = threading.Thread(target=_write, args=(impatient, "Second", errors, started))
        second.start()
        assert started.wait(5)
        second.join(0.2)  # it waits at the gate; SQLite would have said "locked" at once
        assert second.is_alive() and errors == []
    second.join(10)
    assert not second.is_alive() and errors == []
    with session_scope(impatient) as session:
        assert session.get(Person, "wim").name == "Second"  # type: ignore[union-attr]


def test_a_writer_that_failed_or_lost_its_connection_lets_the_next_one_in(
    impatient: Engine,
) -> None:
    with pytest.raises(ValueError), session_scope(impatient) as session:
        session.execute(text("UPDATE person SET name = 'Rolled back' WHERE id = 'wim'"))
        raise ValueError
    conn = impatient.connect()  # a connection that breaks half-way through a write
    conn.begin()
    conn.execute(text("UPDATE person SET name = 'Lost' WHERE id = 'wim'"))
    conn.invalidate()
    conn.close()
    errors: list[BaseException] = []
    after = threading.Thread(target=_write, args=(impatient, "After", errors))
    after.start()
    after.join(10)  # a gate left shut would keep it waiting for 30 s
    assert not after.is_alive() and errors == []
    with session_scope(impatient) as session:
        assert session.get(Person, "wim").name == "After"  # type: ignore[union-attr]


def test_a_school_contacts_list_during_a_long_write_waits_only_for_its_audit(core: Core) -> None:
    """A school contact's /leavers reads as a reader; the audit of the names it shows is
    written after the reading, so during a long write the list is read at once, shown only
    once its audit is saved, and its audit is saved whole even when many ask at once."""
    named = [make_leaver(core, consent="given", name=f"Sam de Boer {i}") for i in range(3)]
    replies: list[str] = []

    def ask() -> None:
        replies.append(str(core.handle_text(person_id="sara", text="/leavers", transport="t")))

    askers = [threading.Thread(target=ask) for _ in range(8)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join()
    assert len(replies) == 8 and all("Sam de Boer 2" in reply for reply in replies)
    with session_scope(core.engine) as session:
        viewed = session.exec(
            text(
                "SELECT case_ref, count(*) FROM audit_event WHERE action = 'view_personal' "
                "GROUP BY case_ref"
            )
        ).all()
    assert dict(viewed) == {case.ref: 8 for case in named}


def test_nothing_read_is_given_back_when_its_writes_after_the_read_fail(core: Core) -> None:
    if core.engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL such a write is made in the unit itself")

    def broken(session):  # type: ignore[no-untyped-def]
        session.execute(text("INSERT INTO no_such_table VALUES (1)"))

    given_back = []
    with pytest.raises((OperationalError, RuntimeError)):  # (the writer's, or a waiter's)
        with session_scope(core.engine, write=False) as session:
            found = session.get(Person, "wim")
            write_after_read(session, broken)
        given_back.append(found)
    assert given_back == []
