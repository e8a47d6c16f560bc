"""PostgreSQL connections (issue 28): kept in the pool once opened, tried before use only
after resting, so a restart of the server between two quiet moments is never seen by a
request, while a busy server does not ping on every unit of work; and readers that need no
transaction of their own, but may not write."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from bot.store import db
from bot.store.db import ReaderWrote, session_scope
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's connections only")


def _backend_of(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _cut(pid: int) -> None:
    """The server ends that connection, as a restart or a proxy would."""
    assert PG_URL is not None
    other = db.make_engine(PG_URL)
    try:
        with other.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    finally:
        other.dispose()


def test_a_connection_that_rested_and_was_cut_is_replaced_without_the_request_noticing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_of(engine)
    _cut(first)
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # it rested long enough: tried first
    assert _backend_of(engine) != first  # answered, on a new connection


def test_a_connection_back_a_moment_ago_is_used_without_a_ping(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    real_ping = engine.dialect.do_ping

    def counted(connection: object) -> bool:
        calls.append(connection)
        return real_ping(connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    first = _backend_of(engine)
    for _ in range(5):
        assert _backend_of(engine) == first  # the same connection, kept
    assert calls == []  # and no round trip to try it each time
    # cut in that moment, the unit that meets it fails and the next connects afresh
    _cut(first)
    with pytest.raises(DBAPIError):
        _backend_of(engine)
    assert _backend_of(engine) != first


def test_a_reader_runs_without_a_transaction_of_its_own_and_may_not_write(engine: Engine) -> None:
    with session_scope(engine, write=False) as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
        # no BEGIN and no COMMIT to wait for: each statement commits (reads) by itself
        assert session.connection().connection.dbapi_connection.autocommit  # type: ignore[union-attr]
    with pytest.raises(ReaderWrote), session_scope(engine, write=False) as session:
        session.execute(text("CREATE TEMPORARY TABLE written (a int)"))
    with session_scope(engine) as session:  # a writer's unit is a transaction, as before
        session.execute(text("SELECT 1"))
        assert not session.connection().connection.dbapi_connection.autocommit  # type: ignore[union-attr]
