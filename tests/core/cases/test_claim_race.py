"""Two brokers pressing Claim at the same moment: one wins, the other is told who has it."""

from __future__ import annotations

import threading

import pytest

from bot.core.app import Core
from bot.core.cases import actions, lifecycle
from bot.core.errors import Refused
from bot.store import queries
from bot.store.db import session_scope
from tests.conftest import PG_URL
from tests.factories import case, inbox, make_leaver


def _claim_in_thread(core: Core, person_id: str, ref: str, results: dict[str, str]) -> None:
    replies = core.handle_text(person_id=person_id, text=f"/claim {ref}", transport="test")
    results[person_id] = "error" if replies[0].error else "ok"


def test_concurrent_claims_leave_exactly_one_owner(core: Core) -> None:
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    results: dict[str, str] = {}
    threads = [
        threading.Thread(target=_claim_in_thread, args=(core, p, c.ref, results))
        for p in ("wim", "fatima")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == ["error", "ok"]
    winner = next(p for p, r in results.items() if r == "ok")
    assert case(core, c.ref).owner_id == winner
    assert len(inbox(core, "sara", kind="claimed")) == 1


@pytest.mark.skipif(not PG_URL, reason="two interleaved connections need PostgreSQL")
def test_interleaved_claims_on_two_postgresql_connections(core: Core) -> None:
    """Both brokers read the due case before either writes; the database decides."""
    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    both_read = threading.Barrier(2, timeout=20)
    outcome: dict[str, str] = {}
    real_check = lifecycle.check

    def check_then_wait(t, cs, name):  # type: ignore[no-untyped-def]
        tr = real_check(t, cs, name)
        if name == "claim":
            both_read.wait()  # both have seen state "due" at the same version
        return tr

    def claim(person_id: str) -> None:
        with session_scope(core.engine) as session:
            person = queries.person_by_id(session, person_id=person_id)
            assert person is not None
            ctx = core.ctx(session, person, transport="test", private=True)
            try:
                actions.claim(ctx, c.ref)
                outcome[person_id] = "won"
            except Refused as refused:
                outcome[person_id] = refused.message

    mp = pytest.MonkeyPatch()
    mp.setattr(lifecycle, "check", check_then_wait)
    try:
        threads = [threading.Thread(target=claim, args=(p,)) for p in ("wim", "fatima")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        mp.undo()
    winners = [p for p, o in outcome.items() if o == "won"]
    assert len(winners) == 1, outcome
    loser = "fatima" if winners == ["wim"] else "wim"
    winner_name = {"wim": "Wim Jansen", "fatima": "Fatima El Amrani"}[winners[0]]
    assert winner_name in outcome[loser]
    assert case(core, c.ref).owner_id == winners[0]
