"""Scheduled handover work: the window opening, reminders and escalation of unclaimed cases.

```mermaid
sequenceDiagram
    participant S as sweep
    participant C as case
    participant B as brokers (home municipality)
    participant K as coordinator
    S->>C: window_open (07:00 on the day) — forecast → due
    C->>B: case card: Claim · Transfer · Details
    S->>B: remind_unclaimed after remind_after_workdays (if still due, same version)
    S->>K: escalate_unclaimed after escalate_after_workdays (if still due, same version)
    S->>K: unclaimed_past_exit weekly, once the expected exit has passed (if still due)
```
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from sqlmodel import col, select

from bot.core import clock, tasks
from bot.core.calendar import WORKDAY_START, at_local
from bot.core.cases import lifecycle, notify
from bot.core.cases.cards import DETAILS, TRANSFER, case_card
from bot.core.context import Ctx
from bot.core.i18n import N_
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.core.vocab import CaseState, Role
from bot.store import queries
from bot.store.models import Case, OutboxMessage, Task


def _case(ctx: Ctx, task: Task) -> Case | None:
    return queries.case_by_ref(ctx.session, ref=task.case_ref or "")


def window_open(ctx: Ctx, task: Task) -> None:
    case = _case(ctx, task)
    if case is None or case.state != CaseState.forecast:
        return
    opens = lifecycle.window_opens(case.expected_exit, ctx.region.schedule.handover_window_weeks)
    if opens > clock.today(ctx.region.tz):  # the exit moved later since this was scheduled
        lifecycle.schedule_window(ctx, case, opens)
        return
    lifecycle.make_due(ctx, case)


def windows_open(ctx: Ctx, batch: list[Task]) -> dict[int, Exception]:
    """`window_open` for many tasks at once: their cases read in one query, and those whose
    window opened made due together (`lifecycle.make_due_many`)."""
    refs = [task.case_ref for task in batch if task.case_ref]
    cases = {c.ref: c for c in ctx.session.exec(select(Case).where(col(Case.ref).in_(refs)))}
    today = clock.today(ctx.region.tz)
    due: dict[int, Case] = {}
    later: list[dict[str, Any]] = []
    taken: set[str] = set()
    for task in batch:
        case = cases.get(task.case_ref or "")
        if case is None or case.state != CaseState.forecast or task.id is None:
            continue
        opens = lifecycle.window_opens(
            case.expected_exit, ctx.region.schedule.handover_window_weeks
        )
        if opens > today:  # the exit moved later since this was scheduled
            later.append(lifecycle.window_task(ctx, case.ref, opens))
        elif case.ref not in taken:  # a second task for the same case: it is due already
            taken.add(case.ref)
            due[task.id] = case
    tasks.schedule_all(ctx.session, later)
    return lifecycle.make_due_many(ctx, due)


def _still_unclaimed(case: Case | None, task: Task) -> bool:
    return (
        case is not None
        and case.state == CaseState.due
        and case.version == task.payload.get("version")
    )


def remind_unclaimed(ctx: Ctx, task: Task) -> None:
    case = _case(ctx, task)
    if case is None or not _still_unclaimed(case, task):
        return
    days = task.payload.get("workdays", "?")
    waits_for_coordinator = notify.without_broker(ctx, case)
    where = queries.municipality_name(ctx.session, code=case.responsible_municipality_code)
    for broker in notify.pickers(ctx, case):
        t = ctx.translator_for(broker)
        card = case_card(
            ctx.session,
            case,
            viewer=broker,
            t=t,
            private=True,
            transport=ctx.transport,
            audit_action="sent_personal",
        )
        if not waits_for_coordinator:
            intro = t(
                "Reminder: case {ref} has waited {days} working days for a broker.",
                ref=case.ref,
                days=days,
            )
        elif notify.outside_region(ctx, case):
            intro = t(
                "Reminder: case {ref} has waited {days} working days to be handed over to "
                "{municipality}, where the young person lives.",
                ref=case.ref,
                days=days,
                municipality=where,
            )
        else:
            intro = t(
                "Reminder: case {ref} has waited {days} working days for you: {municipality} "
                "has no broker yet. Transfer it to a broker.",
                ref=case.ref,
                days=days,
                municipality=where,
            )
        outbox.enqueue(
            ctx.session,
            person_id=broker.id,
            kind="reminder",
            reply=card.model_copy(update={"text": (intro + "\n" + card.text).strip()}),
            case_ref=case.ref,
            once=str(case.version),
        )


def escalate_unclaimed(ctx: Ctx, task: Task) -> None:
    case = _case(ctx, task)
    if case is None or not _still_unclaimed(case, task):
        return
    tasks.schedule_all(ctx.session, [past_exit_task(ctx, case, clock.now() + AGAIN_AFTER)])
    if notify.without_broker(ctx, case):
        return  # it is the coordinators' already: the reminder was the nudge
    notify.tell_coordinators(
        ctx,
        case,
        "escalation",
        N_(
            "Escalation: case {ref} has waited {days} working days and nobody in "
            "{municipality} has claimed it."
        ),
        dedupe=f"unclaimed:{case.version}",
        details=True,
        days=task.payload.get("workdays", "?"),
        municipality=queries.municipality_name(
            ctx.session, code=case.responsible_municipality_code
        ),
    )


# A case still unclaimed after the young person left school is escalated again, weekly.
AGAIN_AFTER = timedelta(days=7)


def past_exit_task(ctx: Ctx, case: Case, after: datetime) -> dict[str, Any]:
    """The next weekly check of an unclaimed case: at `after`, and not before the working
    day after its expected exit."""
    first = at_local(case.expected_exit + timedelta(days=1), WORKDAY_START, ctx.region.tz)
    due = max(first, after)
    return tasks.row(
        kind="unclaimed_past_exit",
        due_at=due,
        case_ref=case.ref,
        payload={"version": case.version},
        dedupe_key=f"unclaimed_past_exit:{case.ref}:{case.version}:{due.date().isoformat()}",
    )


def unclaimed_past_exit(ctx: Ctx, task: Task) -> None:
    """The coordinators hear again, each week, of a case nobody took although the young person
    has left school; a note they have not seen yet is replaced, never piled up."""
    case = _case(ctx, task)
    if case is None or not _still_unclaimed(case, task):
        return
    today = clock.today(ctx.region.tz)
    if today > case.expected_exit:
        for coordinator in queries.people_with_role(ctx.session, role=Role.coordinator):
            t = ctx.translator_for(coordinator)
            reply = Reply(
                text=t(
                    "Escalation: case {ref} is still not taken over, and the young person left "
                    "school on {date}.",
                    ref=case.ref,
                    date=format_date(case.expected_exit, "d MMMM yyyy", locale=t.language),
                ),
                buttons=[
                    Button(label=t(DETAILS), action=f"details:{case.ref}"),
                    Button(label=t(TRANSFER), action=f"transfer:{case.ref}"),
                ],
            )
            _replacing(ctx, coordinator.id, case.ref, reply, once=f"{case.version}:{today}")
    tasks.schedule_all(ctx.session, [past_exit_task(ctx, case, clock.now() + AGAIN_AFTER)])


def _replacing(ctx: Ctx, person_id: str, ref: str, reply: Reply, *, once: str) -> None:
    """`reply` as the person's note about case `ref`: in place of the last one if that was not
    delivered yet, else as a new message."""
    waiting = ctx.session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.person_id == person_id,
            OutboxMessage.kind == PAST_EXIT,
            OutboxMessage.case_ref == ref,
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.dropped_at).is_(None),
            col(OutboxMessage.replaces_id).is_(None),
        )
        .order_by(col(OutboxMessage.id).desc())
    ).first()
    if waiting is not None:
        outbox.replace(ctx.session, waiting, reply, once=once)
        return
    outbox.enqueue(
        ctx.session, person_id=person_id, kind=PAST_EXIT, reply=reply, case_ref=ref, once=once
    )


PAST_EXIT = "escalation_past_exit"
