"""Button actions longer than Telegram's 64 bytes of callback data travel as stored tokens."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import Engine

from bot.core import clock
from bot.handlers.telegram import callbacks
from bot.store.db import make_engine, session_scope

LONG = "form:choose:" + "Zoë ö" * 10  # 62 characters, 82 bytes
OTHER = "form:choose:" + "Anoük" * 10


def test_a_long_action_goes_out_as_a_short_token_and_comes_back(engine: Engine) -> None:
    assert len(LONG) <= 64 < len(LONG.encode())
    with session_scope(engine) as session:
        data = callbacks.callback_data(session, LONG)
    assert data.startswith(callbacks.TOKEN_MARK) and len(data.encode()) <= 64
    with session_scope(engine) as session:
        assert callbacks.action_of(session, data) == LONG


def test_an_action_that_fits_is_sent_as_it_is(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert callbacks.callback_data(session, "claim:K7F2") == "claim:K7F2"
        assert callbacks.action_of(session, "claim:K7F2") == "claim:K7F2"
        # nothing that starts like a token is ever sent as it is
        assert callbacks.callback_data(session, "~abc").startswith("~")
        assert callbacks.action_of(session, callbacks.callback_data(session, "~abc")) == "~abc"


def test_the_same_action_gets_the_same_token_and_different_ones_differ(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = callbacks.token_for(session, LONG)
        again = callbacks.token_for(session, LONG)
        other = callbacks.token_for(session, LONG + "x")
    assert first == again != other
    with session_scope(engine) as session:
        assert callbacks.action_for(session, first) == LONG
        assert callbacks.action_for(session, other) == LONG + "x"


def test_a_token_still_works_after_a_restart(database_url: str) -> None:
    before = make_engine(database_url)
    with session_scope(before) as session:
        token = callbacks.token_for(session, LONG)
    before.dispose()
    after = make_engine(database_url)
    with session_scope(after) as session:
        assert callbacks.action_for(session, token) == LONG
    after.dispose()


def test_an_unknown_token_is_none(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert callbacks.action_for(session, "nosuchtoken") is None
        assert callbacks.action_of(session, "~nosuchtoken") is None


def test_tokens_not_issued_for_90_days_are_pruned(engine: Engine) -> None:
    with time_machine.travel("2026-01-01 09:00:00+00:00", tick=False) as traveller:
        with session_scope(engine) as session:
            old = callbacks.token_for(session, LONG)
            renewed = callbacks.token_for(session, OTHER)
        traveller.shift(timedelta(days=60))
        with session_scope(engine) as session:
            assert callbacks.token_for(session, OTHER) == renewed  # issued again
        traveller.shift(timedelta(days=31))
        with session_scope(engine) as session:
            assert callbacks.prune(session) == 1
        with session_scope(engine) as session:
            assert callbacks.action_for(session, old) is None
            assert callbacks.action_for(session, renewed) == OTHER
            assert callbacks.prune(session, now=clock.now() + timedelta(days=90)) == 1
