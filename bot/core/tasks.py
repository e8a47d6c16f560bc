"""Scheduled work as rows: record a task with a due time; the sweep runs what is due.

Claiming is one statement per batch (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serialises
writers), a lease keeps other instances off a task while it runs, and each task runs in its
own savepoint, batches of them in one transaction, together with everything it records
(outbox messages, new tasks). A kind run often at once (window_open: a round's forecasts
falling due together) has a `many` handler that does a batch's tasks of that kind in a few
statements, leaving out what a failing one would have written. A task that fails is retried
later with back-off; one that crashed mid-way is picked up again when its lease ends — its
outbox messages carry dedupe keys, so nothing is sent twice. A clean stop (`stop` set)
finishes the task under way and releases the rest of the batch at once, so a process started
right after runs them without waiting for the lease to end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.core import clock
from bot.core.context import Ctx
from bot.core.messaging.delivery import backoff
from bot.logs import log_failure
from bot.store import queries
from bot.store.db import session_scope
from bot.store.models import Municipality, Person, School, Task
from bot.store.rows import column_defaults, insert_many_once, insert_once, lease_due

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)

TaskHandler = Callable[[Ctx, Task], None]
# Given tasks of one kind: does for each what the kind's handler does, in a few statements
# for all; returns the tasks (by id) that failed, with why. What a failed task did must not
# be written.
ManyHandler = Callable[[Ctx, list[Task]], dict[int, Exception]]


@dataclass(frozen=True)
class Kind:
    """What runs the tasks of one kind: `run` one task; `many`, when the kind has it, a batch's
    tasks of the kind at once (the sweep's batches)."""

    run: TaskHandler
    many: ManyHandler | None = None


# Every kind of task and what runs it: the one table is `bot.core.sweeps.TASKS`, handed to the
# sweep. A kind not in it (written by a newer or older version) is marked failed.
Kinds = Mapping[str, Kind]


def row(
    *,
    kind: str,
    due_at: datetime,
    case_ref: str | None = None,
    person_id: str | None = None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    """A task as the columns of its row (for `schedule_all`)."""
    return {
        **column_defaults(Task),
        "kind": kind,
        "case_ref": case_ref,
        "person_id": person_id,
        "payload": payload or {},
        "dedupe_key": dedupe_key,
        "due_at": due_at,
        "created_at": clock.now(),
    }


def schedule_all(session: Session, rows: list[dict[str, Any]]) -> None:
    """Record many tasks (`row`s) in one statement; those whose dedupe key exists are skipped."""
    insert_many_once(session, Task, rows, unique=["dedupe_key"])


def schedule(
    session: Session,
    *,
    kind: str,
    due_at: datetime,
    case_ref: str | None = None,
    person_id: str | None = None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> bool:
    """Record a task; False when one with the same dedupe key exists (the unique index says so)."""
    task = Task(
        kind=kind,
        case_ref=case_ref,
        person_id=person_id,
        payload=payload or {},
        dedupe_key=dedupe_key,
        due_at=due_at,
        created_at=clock.now(),
    )
    return insert_once(session, task, unique=["dedupe_key"]) is not None


def claim_due(engine: Engine, *, limit: int = 50) -> list[int]:
    """Lease up to `limit` due tasks for this process; returns their ids."""
    now = clock.now()
    with session_scope(engine) as session:
        return lease_due(
            session,
            Task,
            due=[col(Task.done_at).is_(None), col(Task.due_at) <= now],
            order_by=[col(Task.due_at), col(Task.id)],
            now=now,
            until=now + LEASE,
            limit=limit,
        )


def run_task(
    engine: Engine, make_ctx: Callable[[Session], Ctx], kinds: Kinds, task_id: int
) -> bool:
    """Run one leased task in its own transaction. False when it failed (and will retry)."""
    try:
        with session_scope(engine) as session:
            return _run(session, make_ctx(session), kinds, task_id)
    except Exception as exc:
        # Type and case reference only: an exception's text may quote SQL parameters, and so
        # a young person's details. The traceback goes to DEBUG for whoever runs it locally.
        log_failure(log, "task %s failed", task_id, exc=exc)
        with session_scope(engine) as session:
            _failed(session, task_id, exc)
        return False


def run_batch(
    engine: Engine,
    make_ctx: Callable[[Session], Ctx],
    kinds: Kinds,
    task_ids: list[int],
    *,
    stop: threading.Event | None = None,
) -> int:
    """Run leased tasks together in one transaction, each in a savepoint of its own: a task
    that fails is rolled back alone and retried later; the others are kept. Tasks of a kind
    with a `many` handler run together where they follow each other, in a few statements
    instead of several each; there too what a failing one would have written is left out,
    alone. Returns how many were run, from the first: once `stop` is set, the task (or
    group) under way is finished and the rest are left. Should the transaction itself not
    commit, the leases run out and every task of the batch runs again (what they record
    carries dedupe keys)."""
    attempted = 0
    failed: list[tuple[int, Exception]] = []
    with session_scope(engine) as session:
        ctx = make_ctx(session)
        # the directory, held for the batch: handlers then find people, schools and
        # municipalities without a query each time; the tasks too, read together
        people = session.exec(select(Person).order_by(col(Person.name))).all()
        directory = [*session.exec(select(School)), *session.exec(select(Municipality))]
        ctx.known = queries.Remembered(session, people=people)
        read = session.exec(select(Task).where(col(Task.id).in_(task_ids)))
        held = {t.id: t for t in read if t.id is not None}
        for many, group in _groups(task_ids, held, kinds):
            if stop is not None and stop.is_set():
                break
            attempted += len(group)
            if many is not None and len(group) > 1:
                failed += _run_many(session, ctx, kinds, many, [held[i] for i in group])
                continue
            for task_id in group:
                failed += _run_alone(session, ctx, kinds, task_id)
        for task_id, problem in failed:
            _failed(session, task_id, problem)
        del directory
    return attempted


def _groups(
    task_ids: list[int], held: dict[int, Task], kinds: Kinds
) -> list[tuple[ManyHandler | None, list[int]]]:
    """The batch in order: tasks of a kind that can run many at once together where they
    follow each other (with that kind's `many`), every other task alone (None). Once `stop`
    is set, the group under way is finished, as a single task would be."""
    groups: list[tuple[str | None, ManyHandler | None, list[int]]] = []
    for task_id in task_ids:
        task = held.get(task_id)
        kind = kinds.get(task.kind) if task is not None else None
        many = kind.many if kind is not None else None
        name = task.kind if task is not None and many is not None else None
        if name is not None and groups and groups[-1][0] == name:
            groups[-1][2].append(task_id)
        else:
            groups.append((name, many, [task_id]))
    return [(many, group) for _, many, group in groups]


def _run_alone(
    session: Session, ctx: Ctx, kinds: Kinds, task_id: int
) -> list[tuple[int, Exception]]:
    """One task in a savepoint of its own: rolled back alone when it fails."""
    try:
        with session.begin_nested():
            _run(session, ctx, kinds, task_id)
    except Exception as exc:
        log_failure(log, "task %s failed", task_id, exc=exc)
        return [(task_id, exc)]
    return []


def _run_many(
    session: Session, ctx: Ctx, kinds: Kinds, many: ManyHandler, group: list[Task]
) -> list[tuple[int, Exception]]:
    """Tasks of one kind at once, in one savepoint; those that failed are left for a retry.
    Should the savepoint fail as a whole (a write refused), each task runs alone instead."""
    todo = [task for task in group if task.done_at is None]
    try:
        with session.begin_nested():
            failures = many(ctx, todo)
            done = [task.id for task in todo if task.id is not None and task.id not in failures]
            if done:
                session.execute(
                    update(Task)
                    .where(col(Task.id).in_(done))
                    .values(done_at=clock.now(), leased_until=None)
                )
    except Exception as exc:
        log_failure(log, "%d tasks failed together; each alone now", len(todo), exc=exc)
        session.expire_all()  # what the handler told objects of the rolled-back writes
        return [f for task in todo if task.id for f in _run_alone(session, ctx, kinds, task.id)]
    for task_id, problem in failures.items():
        log_failure(log, "task %s failed", task_id, exc=problem)
    return list(failures.items())


def _run(session: Session, ctx: Ctx, kinds: Kinds, task_id: int) -> bool:
    """Run one task in the current transaction; False when its kind is unknown."""
    task = session.get(Task, task_id)
    if task is None or task.done_at is not None:
        return True
    kind = kinds.get(task.kind)
    if kind is None:
        # written by a newer or older version of Vangnet: retrying will not help
        log.error("task %s has an unknown kind %r: marked failed", task_id, task.kind)
        task.done_at = clock.now()
        task.last_error = "unknown kind"
        task.leased_until = None
        session.add(task)
        return False
    kind.run(ctx, task)
    task.done_at = clock.now()
    task.leased_until = None
    session.add(task)
    return True


def _failed(session: Session, task_id: int, exc: Exception) -> None:
    task = session.get(Task, task_id)
    if task is not None:
        task.attempts += 1
        task.last_error = type(exc).__name__
        task.due_at = clock.now() + backoff(task.attempts)
        task.leased_until = None
        session.add(task)


def release(engine: Engine, task_ids: Sequence[int]) -> None:
    """Give back the leases of tasks this process will not run (it is stopping)."""
    if not task_ids:
        return
    with session_scope(engine) as session:
        session.execute(
            update(Task)
            .where(col(Task.id).in_(list(task_ids)), col(Task.done_at).is_(None))
            .values(leased_until=None)
        )


def sweep(
    engine: Engine,
    make_ctx: Callable[[Session], Ctx],
    kinds: Kinds,
    *,
    limit: int = 50,
    stop: threading.Event | None = None,
) -> int:
    """Run everything that is due now, `limit` tasks to a transaction. Returns how many
    tasks ran. When `stop` is set, the task under way is finished and the others leased are
    released."""
    ran = 0
    while ids := claim_due(engine, limit=limit):
        try:
            attempted = run_batch(engine, make_ctx, kinds, ids, stop=stop)
        except Exception as exc:  # the batch did not commit: its tasks one by one
            log_failure(
                log, "a batch of %d tasks failed; running them one by one", len(ids), exc=exc
            )
            attempted = 0
            for task_id in ids:
                if stop is not None and stop.is_set():
                    break
                run_task(engine, make_ctx, kinds, task_id)
                attempted += 1
        ran += attempted
        if attempted < len(ids):  # stopping
            release(engine, ids[attempted:])
            log.info("stopping: %d leased tasks released", len(ids) - attempted)
            return ran
        if len(ids) < limit:
            break
    return ran
