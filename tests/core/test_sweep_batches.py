"""Work done many at once (issue 16): the sweep makes a batch's due forecasts due together, and
a school's file registers its leavers together. Batching must change nothing a person
notices: the same pings to the same people, an audit trail per case, a failing task alone
retried; and it must not fall back to several queries per case."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, event, update
from sqlmodel import col, select

from bot.core import clock, tasks
from bot.core.app import Core
from bot.core.sweeps import run_sweep
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Case, OutboxMessage, Task
from tests.core.intake.test_csv_import import HEADER, run_import
from tests.factories import make_leaver

# Each kind of receiver a case that falls due has: its municipality's brokers (with and
# without the young person's name on the card), the brokers of the school's municipality
# told for their information, and the coordinators for a young person outside the region.
KINDS: list[dict[str, str]] = [
    {"home_municipality": "Zwolle", "consent": "given", "name": "Jesse Voorbeeld"},
    {"home_municipality": "Kampen"},
    {"home_municipality": "Amsterdam"},
    {"home_municipality": "Zwolle", "consent": "refused"},
]


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements sent to the database meanwhile."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _leavers(core: Core, n: int) -> list[str]:
    return [make_leaver(core, **KINDS[i % len(KINDS)]).ref for i in range(n)]


def _hold(core: Core, refs: list[str], *, until: Any) -> None:
    """Set the window tasks of these cases due at `until`."""
    with session_scope(core.engine) as session:
        session.execute(
            update(Task)
            .where(col(Task.case_ref).in_(refs), Task.kind == "window_open")
            .values(due_at=until)
        )


def _written(core: Core, refs: list[str]) -> dict[str, Any]:
    """What the sweep wrote about these cases, their references replaced by their place in
    `refs` (so that two groups of cases compare)."""
    with session_scope(core.engine) as session:
        cases = session.exec(select(Case).where(col(Case.ref).in_(refs))).all()
        place = {ref: f"<case {i}>" for i, ref in enumerate(refs)}
        place |= {c.student_ref: f"<student of {place[c.ref]}>" for c in cases}

        def plain(value: Any) -> str:
            words = sorted(place, key=len, reverse=True)
            return re.sub("|".join(map(re.escape, words)), lambda m: place[m.group(0)], repr(value))

        pings = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.case_ref).in_(refs))
            .order_by(col(OutboxMessage.id))
        ).all()
        events = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.case_ref).in_(refs), AuditEvent.action != "register")
            .order_by(col(AuditEvent.id))
        ).all()
        checks = session.exec(
            select(Task).where(col(Task.case_ref).in_(refs), Task.kind != "window_open")
        ).all()
        return {
            "pings": sorted(
                plain((m.case_ref, m.person_id, m.kind, m.dedupe_key, m.payload)) for m in pings
            ),
            "per person": sorted(
                plain((p, [m.case_ref for m in pings if m.person_id == p]))
                for p in {m.person_id for m in pings}
            ),
            "audit": sorted(  # per case, in order
                plain(
                    (ref, [(e.action, e.actor_id, e.detail) for e in events if e.case_ref == ref])
                )
                for ref in {e.case_ref for e in events}
            ),
            "checks": sorted(
                plain((t.case_ref, t.kind, t.dedupe_key, t.payload, t.due_at)) for t in checks
            ),
            "cases": sorted(plain((c.ref, c.state, c.version, c.urgent)) for c in cases),
        }


def test_cases_made_due_together_are_told_as_one_by_one(
    core: Core, frozen: time_machine.Coordinates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same pings (receivers, text, buttons, dedupe keys), the same audit events per case
    (made due, personal details sent), the same reminders, whether a batch's window_open
    tasks run one by one or together."""
    alone, together = _leavers(core, 8), _leavers(core, 8)
    frozen.shift(timedelta(days=100))
    _hold(core, together, until=clock.now() + timedelta(days=1))
    with monkeypatch.context() as m:
        m.setattr(tasks, "MANY", {})  # one by one, each in its own savepoint
        assert run_sweep(core) == 8
    _hold(core, together, until=clock.now())
    assert run_sweep(core) == 8
    one_by_one, batched = _written(core, alone), _written(core, together)
    assert batched == one_by_one
    # and it is what the product asks for: each kind of receiver, and a trail per case
    receivers = {m.split(",")[1].strip(" '") for m in batched["pings"]}
    assert {"wim", "fatima", "bram", "anna"} <= receivers
    assert len(batched["audit"]) == 8 and all("make_due" in a for a in batched["audit"])
    assert sum("sent_personal" in a for a in batched["audit"]) == 2


def test_a_sweep_does_not_ask_the_database_again_for_each_case(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    """Twice the due forecasts, hardly more statements: nothing is read or written one case
    at a time (brokers, cards, audit, pings, reminders)."""
    _leavers(core, 8)
    more = _leavers(core, 16)
    frozen.shift(timedelta(days=100))
    _hold(core, more, until=clock.now() + timedelta(days=1))
    with statements(core.engine) as first:
        assert run_sweep(core) == 8
    _hold(core, more, until=clock.now())
    with statements(core.engine) as second:
        assert run_sweep(core) == 16
    assert len(second) - len(first) < 8, (len(first), len(second))


def test_a_case_failing_in_a_batch_is_retried_alone_and_the_others_are_kept(
    core: Core, frozen: time_machine.Coordinates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case whose ping cannot be made fails alone: nothing of it is written (not its state,
    audit, pings or reminders), its task is retried, the rest of the batch is kept."""
    from bot.core.messaging import notify

    refs = _leavers(core, 4)
    broken = refs[1]
    real: Callable[..., Any] = notify.due_messages

    def sometimes_broken(ctx: Any, case: Case, **kwargs: Any) -> Any:
        if case.ref == broken:
            raise ValueError("boom")
        return real(ctx, case, **kwargs)

    monkeypatch.setattr(notify, "due_messages", sometimes_broken)
    frozen.shift(timedelta(days=100))
    assert run_sweep(core) == 4
    written = _written(core, refs)
    with session_scope(core.engine) as session:
        states = {c.ref: c.state for c in session.exec(select(Case))}
        failed = session.exec(
            select(Task).where(Task.case_ref == broken, Task.kind == "window_open")
        ).one()
    assert [states[r] for r in refs] == ["due", "forecast", "due", "due"]
    assert (failed.done_at, failed.attempts, failed.last_error) == (None, 1, "ValueError")
    nothing = ("pings", "audit", "checks")
    assert not any("<case 1>" in line for part in nothing for line in written[part])
    monkeypatch.undo()  # fixed: the retry makes it due like the others
    frozen.shift(timedelta(seconds=31))
    assert run_sweep(core) == 1
    again = _written(core, [broken])
    assert again["cases"] == ["('<case 0>', 'due', 2, False)"]
    assert sorted(p.split(",")[1].strip(" '") for p in again["pings"]) == ["bram", "fatima", "wim"]


def test_a_case_changed_meanwhile_is_left_to_its_retry(
    core: Core, frozen: time_machine.Coordinates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The conditional UPDATE of a batch moves only cases nobody changed since they were
    read; what was made for the one changed is not written."""
    from bot.core.cases import lifecycle

    refs = _leavers(core, 3)
    real = lifecycle._move_due

    def someone_was_quicker(ctx: Any, pairs: Any, now: Any) -> set[int]:
        # the first case changes between being read and being moved
        ctx.session.execute(update(Case).where(Case.ref == refs[0]).values(version=7))
        return real(ctx, pairs, now)

    monkeypatch.setattr(lifecycle, "_move_due", someone_was_quicker)
    frozen.shift(timedelta(days=100))
    assert run_sweep(core) == 3
    written = _written(core, refs)
    assert not any("<case 0>" in line for line in written["pings"] + written["audit"])
    with session_scope(core.engine) as session:
        task = session.exec(
            select(Task).where(Task.case_ref == refs[0], Task.kind == "window_open")
        ).one()
    assert (task.done_at, task.last_error) == (None, "Refused")


def _csv(n: int, start: int) -> str:
    rows = [
        f"BT-{start + i},,2010,{'Zwolle' if i % 2 else 'Kampen'},pro,,2026-12,no,work,"
        f"{'given' if i % 3 == 0 else 'not_asked'},"
        for i in range(n)
    ]
    return HEADER + "\n" + "\n".join(rows) + "\n"


def test_a_file_of_leavers_due_at_once_is_saved_without_queries_per_leaver(
    core: Core,
) -> None:
    """Leavers due at once ping their brokers (and the school's, for their information)
    with their cards, with an audit event per personal card; twice the file, hardly more
    statements."""
    with statements(core.engine) as first:
        result = run_import(core, _csv(10, 0))
    assert result.ok and result.added == 10
    with statements(core.engine) as second:
        result = run_import(core, _csv(20, 100))
    assert result.ok and result.added == 20
    assert len(second) - len(first) < 10, (len(first), len(second))
    with session_scope(core.engine) as session:
        cases = session.exec(select(Case).where(col(Case.student_ref).like("BT-1%"))).all()
        refs = {c.ref: c for c in cases}
        assert {c.state for c in cases} == {"due"}
        pings = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.case_ref).in_(list(refs)))
        ).all()
        shown = session.exec(
            select(AuditEvent).where(
                col(AuditEvent.case_ref).in_(list(refs)), AuditEvent.action == "sent_personal"
            )
        ).all()
    for ref, c in refs.items():
        to = sorted((m.person_id, m.kind) for m in pings if m.case_ref == ref)
        if c.home_municipality_code == "GM0193":  # Zwolle, the school's own
            assert to == [("fatima", "due"), ("wim", "due")]
        else:  # Kampen's broker; the school's municipality's for their information
            assert to == [("bram", "due"), ("fatima", "informed"), ("wim", "informed")]
    consented = [c for c in cases if c.consent == "given"]
    assert consented and sorted(e.case_ref for e in shown) == sorted(
        ref
        for ref, c in refs.items()
        for _ in range(2 if c.home_municipality_code == "GM0193" else 1)
        if c.consent == "given"
    )


def test_a_batch_whose_writes_are_refused_runs_each_task_alone(
    core: Core, frozen: time_machine.Coordinates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should writing a batch's pings fail as a whole, its tasks run again one by one in the
    same sweep: every case is due and pinged once, nothing is lost."""
    from bot.core.messaging import outbox

    refs = _leavers(core, 3)
    real = outbox.enqueue_all
    calls: list[int] = []

    def refused_once(session: Any, messages: Any) -> None:
        calls.append(len(messages))
        if len(calls) == 1:
            raise RuntimeError("the database said no")
        real(session, messages)

    monkeypatch.setattr(outbox, "enqueue_all", refused_once)
    frozen.shift(timedelta(days=100))
    assert run_sweep(core) == 3
    written = _written(core, refs)
    assert [c.split(",")[1].strip(" '") for c in written["cases"]] == ["due"] * 3
    assert len(written["pings"]) == 2 + 3 + 1  # Zwolle: 2; Kampen: bram, 2 notes; the coordinator
    assert len(calls) == 1 + 3
