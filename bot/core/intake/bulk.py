"""Registering many leavers at once (a school's file): all or nothing, in a few statements.

New rows, their audit events, the tasks that open their handover window, and the pings and
reminders of those due at once are written in bulk on the table objects (so the encrypting
column types apply), with their references drawn together; a row the school sent before
updates its case as `register.update_leaver` does. If another instance registers the same
leaver at that moment, the file is saved row by row instead (`register.save_leaver`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.core import audit, clock, refs, tasks
from bot.core.cases import lifecycle, notify
from bot.core.context import Ctx
from bot.core.intake.register import changes, leaver_data, save_leaver, update_leaver
from bot.core.messaging import outbox
from bot.core.vocab import CaseState
from bot.store import queries
from bot.store.models import AuditEvent, Case, Municipality, Person, School
from bot.store.rows import column_defaults, insert_rows

CHUNK = 500  # values in one IN (…): well under what SQLite and PostgreSQL accept


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def save_leavers(ctx: Ctx, *, school_id: str, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """`save_leaver` for every checked row, in a few statements instead of several per row:
    (added, updated).

    New leavers are written at once (their references drawn together), with their audit
    events, their window tasks, and, for those due at once, their pings and reminders. A
    leaver the school registered before is updated one by one when something changed (that
    may reroute the case and tell people); unchanged ones only get their window task if it
    is missing. Should another instance register one of these leavers (or draw one of the
    references) at the same moment, the rows are saved one by one instead, as `save_leaver`
    would, so nothing is registered twice.
    """
    session = ctx.session
    known: dict[str, Case] = {}
    for part in _chunks([values["student_ref"] for values in rows]):
        for case in session.exec(
            select(Case).where(Case.school_id == school_id, col(Case.student_ref).in_(part))
        ):
            known[case.student_ref] = case
    new = [values for values in rows if values["student_ref"] not in known]
    later: list[dict[str, Any]] = []  # window tasks of unchanged forecasts
    for values in rows:
        existing = known.get(values["student_ref"])
        if existing is None:
            continue
        changed = changes(existing, leaver_data(ctx, values))
        if changed or not _waits_for_window(ctx, existing):
            update_leaver(ctx, existing, changed)
        elif existing.state == CaseState.forecast:
            later.append(lifecycle.window_task(ctx, existing.ref, _opens(ctx, existing)))
    tasks_rows, added = list(later), len(new)
    try:
        with session.begin_nested():
            tasks_rows += _add_new(ctx, school_id, new)
    except IntegrityError:  # someone else registered one of them just now: one by one
        added = sum(save_leaver(ctx, school_id=school_id, values=v)[1] for v in new)
    tasks.schedule_all(session, tasks_rows)
    return added, len(rows) - added


def _opens(ctx: Ctx, case: Case) -> date:
    return lifecycle.window_opens(case.expected_exit, ctx.region.schedule.handover_window_weeks)


def _waits_for_window(ctx: Ctx, case: Case) -> bool:
    """A forecast whose window is still ahead, or a case past being a forecast: nothing to
    do now besides (for the forecast) its window task."""
    if case.state != CaseState.forecast:
        return True
    return not case.early_leaver and _opens(ctx, case) > clock.today(ctx.region.tz)


def _add_new(ctx: Ctx, school_id: str, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write the new leavers, their audit events, and the pings and reminders of those due at
    once; returns the window tasks of the others (recorded with the rest)."""
    if not new:
        return []
    session = ctx.session
    now = clock.now()
    today = clock.today(ctx.region.tz)
    weeks = ctx.region.schedule.handover_window_weeks
    # given out in alphabetical order, down the file: the rows then reach the indexes on the
    # reference (cases, their events and tasks) in order, a page after the other, instead
    # of all over them (a third less time writing events and tasks into a big database)
    refs_ = sorted(refs.new_refs(len(new), lambda drawn: _taken(ctx, drawn)))
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    window: list[dict[str, Any]] = []
    due_refs: list[str] = []
    actor, transport = ctx.actor.id, ctx.transport
    for ref, values in zip(refs_, new, strict=True):
        data = leaver_data(ctx, values)
        opens = lifecycle.window_opens(data["expected_exit"], weeks)
        due = data["early_leaver"] or opens <= today
        cases.append(
            {
                **data,
                "ref": ref,
                "school_id": school_id,
                "registered_by": actor,
                "student_ref": values["student_ref"],
                "responsible_municipality_code": values["home_municipality"],
                "assigned_person_id": None,
                "urgent": data["early_leaver"],
                # as `lifecycle.make_due` leaves a new case: due, one version on
                "state": CaseState.due if due else CaseState.forecast,
                "due_at": now if due else None,
                "version": 2 if due else 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        events.append(
            audit.row(
                actor_id=actor,
                transport=transport,
                action="register",
                case_ref=ref,
                programme=data["programme"],
                home_municipality_code=data["home_municipality_code"],
                early_leaver=data["early_leaver"],
            )
        )
        if due:
            due_refs.append(ref)
            detail = {"from": CaseState.forecast.value, "to": CaseState.due.value}
            events.append(
                audit.row(
                    actor_id=actor,
                    transport=transport,
                    action="make_due",
                    case_ref=ref,
                    **detail,
                    urgent=data["early_leaver"],
                )
            )
        else:
            window.append(lifecycle.window_task(ctx, ref, opens))
    insert_rows(session, Case, [_case_row(row) for row in cases])
    insert_rows(session, AuditEvent, events)
    messages: list[outbox.Message] = []
    nudges: list[dict[str, Any]] = []
    known = queries.Remembered(session)  # brokers and school contacts, read once
    # the directory, held while the cards are made so that they find it without a query
    directory = [
        *session.exec(select(Municipality)),
        *session.exec(select(School)),
        *session.exec(select(Person)),
    ]
    shown: list[dict[str, Any]] = []  # the cards' audit events, written together at the end
    for part in _chunks(due_refs):
        for case in session.exec(select(Case).where(col(Case.ref).in_(part))):
            messages += notify.due_messages(ctx, case, known=known, events=shown)
            nudges += lifecycle.unclaimed_check_tasks(ctx, case.ref, case.version)
    if shown:
        insert_rows(session, AuditEvent, shown)
    outbox.enqueue_all(session, messages)
    del directory
    return window + nudges


def _case_row(values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a case row (their defaults where not given), as one insert needs them."""
    return {**column_defaults(Case), **values}


def _taken(ctx: Ctx, drawn: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for part in _chunks(drawn):
        taken.update(ctx.session.exec(select(Case.ref).where(col(Case.ref).in_(part))))
    return taken
