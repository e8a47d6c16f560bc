"""Rows written many at once (`bot/store/rows.py`): what is stored is what one row at a time
would store: encrypted where the column encrypts, datetimes as UTC, JSON as JSON; a row whose
unique key exists already (or comes twice) is skipped; on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlmodel import col, select

from bot.core.app import Core
from bot.store.db import SQLITE_CACHE_KIB, large_write, session_scope
from bot.store.models import Case, Task
from bot.store.rows import column_defaults, insert_many_once, insert_rows

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _case(i: int, **values: object) -> dict[str, object]:
    now = datetime(2026, 11, 23, 10, 30, tzinfo=AMSTERDAM)
    return {
        **column_defaults(Case),
        "ref": f"ROW{i}",
        "school_id": "brug",
        "registered_by": "sara",
        "student_ref": f"R-{i}",
        "home_municipality_code": "GM0193",
        "responsible_municipality_code": "GM0193",
        "programme": "pro",
        "expected_exit": date(2027, 6, 1),
        "early_leaver": False,
        "urgent": False,
        "created_at": now,
        "updated_at": now,
        **values,
    }


def _task(key: str | None, **values: object) -> dict[str, object]:
    return {
        **column_defaults(Task),
        "kind": "window_open",
        "payload": {"version": 2, "note": "één"},
        "dedupe_key": key,
        "due_at": datetime(2027, 3, 1, 7, 0, tzinfo=AMSTERDAM),
        "created_at": datetime(2026, 11, 23, tzinfo=UTC),
        **values,
    }


def test_many_cases_at_once_are_stored_as_one_at_a_time_would_be(core: Core) -> None:
    engine = core.engine
    rows = [_case(i, name=f"Jesse Voorbeeld {i}", consent="given") for i in range(3)]
    rows.append(_case(3))  # no name: NULL, not an encrypted "None"
    with session_scope(engine) as session:
        insert_rows(session, Case, rows)

    with engine.connect() as conn:
        stored = conn.execute(text("SELECT name FROM cases WHERE ref LIKE 'ROW%' ORDER BY ref"))
        names = [name for (name,) in stored]
    assert all(str(n).startswith("gAAAAA") for n in names[:3]) and names[3] is None
    assert len(set(names[:3])) == 3
    with session_scope(engine) as session:
        found = {c.ref: c for c in session.exec(select(Case).where(col(Case.ref).like("ROW%")))}
    assert found["ROW2"].name == "Jesse Voorbeeld 2" and found["ROW3"].name is None
    # the same instant, handed back in UTC
    assert found["ROW0"].created_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert found["ROW0"].created_at.tzinfo == UTC
    assert found["ROW1"].expected_exit == date(2027, 6, 1) and found["ROW1"].early_leaver is False


def test_a_naive_datetime_is_refused_in_a_bulk_insert_too(core: Core) -> None:
    engine = core.engine
    naive = datetime(2026, 11, 23, tzinfo=UTC).replace(tzinfo=None)
    with (
        pytest.raises(Exception, match="naive datetime refused"),
        session_scope(engine) as session,
    ):
        insert_rows(session, Case, [_case(1), _case(2, created_at=naive)])
    with session_scope(engine) as session:
        assert not session.exec(select(Case).where(col(Case.ref).like("ROW%"))).all()


def test_rows_whose_key_exists_or_comes_twice_are_skipped(engine: Engine) -> None:
    with session_scope(engine) as session:
        insert_many_once(session, Task, [_task("a")], unique=["dedupe_key"])
    with session_scope(engine) as session:
        rows = [_task("a"), _task("b"), _task("b"), _task(None), _task(None)]
        insert_many_once(session, Task, rows, unique=["dedupe_key"])

    with session_scope(engine) as session:
        tasks = session.exec(select(Task).order_by(col(Task.id))).all()
    assert [t.dedupe_key for t in tasks] == ["a", "b", None, None]  # NULL is never a clash
    assert tasks[1].payload == {"version": 2, "note": "één"}
    assert tasks[1].due_at == datetime(2027, 3, 1, 6, 0, tzinfo=UTC)


def test_a_large_write_gives_its_cache_back_with_its_connection(core: Core) -> None:
    engine = core.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("a page cache per connection is SQLite's")
    with session_scope(engine) as session:
        large_write(session)
        grown = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
        insert_rows(session, Case, [_case(1)])
    assert grown is not None and grown < -SQLITE_CACHE_KIB
    for _ in range(3):  # whichever connection the pool hands out
        with engine.connect() as conn:
            size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        assert size == -SQLITE_CACHE_KIB
