"""Readers and writers (issue 14 item 4): while a long write holds SQLite's write lock, what
only reads is answered at once; what writes waits its turn and is then saved whole."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.store.db import ReaderWrote, run_unit, session_scope
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
