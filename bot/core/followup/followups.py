"""Placement and follow-up (product.md 5.3): record where the young person went, then ask the
owner at the region's follow-up offsets whether they are still there.

```mermaid
stateDiagram-v2
    claimed --> placed: /placed (guided: destination, organisation, start)
    placed --> placed: follow-up n — still in place (asks n+1 later)
    placed --> closed: last follow-up — still in place
    placed --> placed: follow-up — changed place (guided, new placement)
    placed --> claimed: follow-up — dropped out (coordinator told)
    placed --> lost: follow-up — lost contact (coordinator, doorstroompunt told)
```
Unanswered questions are reminded after remind_after_workdays and escalated to the coordinator
after escalate_after_workdays.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from sqlalchemy import update
from sqlmodel import col

from bot.core import clock, conversation, tasks
from bot.core.calendar import WORKDAY_START, at_local
from bot.core.cases import actions, lifecycle, notify
from bot.core.cases.followup_question import ANSWERS, question
from bot.core.cases.permissions import may_act_as_owner
from bot.core.context import Ctx
from bot.core.conversation.fields import MONTHS, FieldError, ParseEnv, parse_choice, parse_text
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.core.vocab import CaseState, Destination
from bot.store import queries
from bot.store.models import Case, Task

# --- the placement form ----------------------------------------------------------------------


def parse_start(raw: str, env: ParseEnv) -> date:
    """A start date: 2027-02-01, 1-2-2027, 1 februari 2027, februari 2027, vandaag/today."""
    text = raw.strip().casefold()
    today = env.today
    found: date | None = None
    if text in ("vandaag", "today"):
        found = today
    elif m := re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text):
        found = _date(int(m[1]), int(m[2]), int(m[3] or 1))
    elif m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text):
        found = _date(int(m[3]), int(m[2]), int(m[1]))
    elif (m := re.fullmatch(r"(?:(\d{1,2}) )?([a-z]+)\.? (\d{4})", text)) and m[2] in MONTHS:
        found = _date(int(m[3]), MONTHS[m[2]], int(m[1] or 1))
    if found is None:
        raise FieldError(env.t("Give a date, for example 2027-02-01 or 1 February 2027."))
    if not today - timedelta(days=366) <= found <= today + timedelta(days=366):
        raise FieldError(env.t("Give a start date within a year from today."))
    return found


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _has_organisation(values: dict[str, Any]) -> bool:
    return values.get("destination") not in (Destination.none, Destination.moved_away)


def _confirm(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    case = lifecycle.get_in_scope(ctx, context["ref"])
    destination = Destination(values["destination"])
    organisation = values.get("organisation", "")
    start = values["start"]
    t = ctx.t
    if context.get("mode") == "changed":
        n = int(context["n"])
        if case.state != CaseState.placed:
            raise Refused(t("Case {ref} is no longer placed.", ref=case.ref))
        if not _open(case, n):  # answered meanwhile (another button, another person)
            raise Refused(
                t("This follow-up question of case {ref} is no longer open.", ref=case.ref)
            )
        lifecycle.apply(
            ctx,
            case,
            "followup_changed",
            destination=destination.value,
            placement_org=organisation or None,
            placement_start=start,
            followup_open=None,
            followups_done=n + 1,
        )
        _next_followup(ctx, case, n + 1)
        if destination == Destination.none:
            notify.report_to_doorstroompunt(ctx, case)
        return [Reply(text=t("The new place of case {ref} is recorded.", ref=case.ref))]
    return place(ctx, case.ref, values)


def place(ctx: Ctx, ref: str, values: dict[str, Any]) -> list[Reply]:
    """Record the placement of case `ref` and schedule its first follow-up.

    `values` are the placement form's answers, parsed by its fields (destination, organisation
    when the destination has one, start). The guided form and the Slack modal both end here.
    """
    case = check_placement(ctx, ref)
    destination = Destination(values["destination"])
    organisation = values.get("organisation", "") if _has_organisation(values) else ""
    t = ctx.t
    actions.record_placement(
        ctx, case, destination=destination, organisation=organisation, start=values["start"]
    )
    _next_followup(ctx, case, 0)
    return [
        Reply(
            text=t(
                "The placement of case {ref} is recorded. I will ask you about it on {date}.",
                ref=case.ref,
                date=format_date(_followup_day(ctx, case, 0), locale=t.language),
            )
        )
    ]


PLACEMENT_FORM = conversation.Form(
    name="placement",
    title=N_("Placement"),
    fields=(
        conversation.FormField(
            name="destination",
            label=N_("Destination"),
            question=N_("Where did the young person go?"),
            parse=lambda raw, env: (
                Destination(
                    raw.strip()
                    if raw.strip() in {d.value for d in Destination}
                    else parse_choice("destination", raw, env)
                ).value
            ),
            required=True,
            choices=tuple(d.value for d in Destination),
        ),
        conversation.FormField(
            name="organisation",
            label=N_("Organisation"),
            question=N_("Which employer, school or organisation?"),
            parse=parse_text(200),
            ask_if=_has_organisation,
        ),
        conversation.FormField(
            name="start",
            label=N_("Start date"),
            question=N_("From which date?"),
            parse=parse_start,
            required=True,
        ),
    ),
    on_confirm=_confirm,
)


def check_placement(ctx: Ctx, ref: str) -> Case:
    """Case `ref`, if the actor may record its placement now; Refused with the reason if not.

    The checks of /placed REF without starting anything (a transport asks before it opens a
    form of its own).
    """
    case = lifecycle.get_in_scope(ctx, ref)
    if not may_act_as_owner(ctx.actor, case):
        raise Refused(ctx.t("Only the owner of case {ref} can record its placement.", ref=case.ref))
    lifecycle.check(ctx.t, case, "place")
    return case


def start_placement(ctx: Ctx, ref: str) -> list[Reply]:
    """/placed REF: for the owner of a claimed case."""
    case = check_placement(ctx, ref)
    return conversation.start(ctx, PLACEMENT_FORM, {"ref": case.ref, "mode": "place"})


# --- follow-ups ------------------------------------------------------------------------------


def _followup_day(ctx: Ctx, case: Case, n: int) -> date:
    offsets = ctx.region.schedule.followup_days
    start = case.placement_start or clock.today(ctx.region.tz)
    return max(start + timedelta(days=offsets[n]), clock.today(ctx.region.tz))


def _next_followup(ctx: Ctx, case: Case, n: int) -> None:
    if n >= len(ctx.region.schedule.followup_days):
        return
    tasks.schedule(
        ctx.session,
        kind="followup",
        due_at=at_local(_followup_day(ctx, case, n), WORKDAY_START, ctx.region.tz),
        case_ref=case.ref,
        payload={"n": n},
        dedupe_key=f"followup:{case.ref}:{case.version}:{n}",
    )


def _open(case: Case | None, n: int) -> bool:
    return case is not None and case.state == CaseState.placed and case.followup_open == n


def ask_followup(ctx: Ctx, task: Task) -> None:
    case = queries.case_by_ref(ctx.session, ref=task.case_ref or "")
    n = int(task.payload["n"])
    if case is None or case.state != CaseState.placed or case.followups_done != n:
        return
    if case.owner_id is None or case.followup_open is not None:
        return
    case.followup_open = n
    ctx.session.add(case)
    outbox.enqueue(
        ctx.session,
        person_id=case.owner_id,
        kind="followup",
        reply=question(ctx, case, case.owner_id, n, N_("Follow-up for case {ref} ({student}).")),
        case_ref=case.ref,
        once=f"{n}:{case.placement_start}",
    )
    lifecycle.schedule_nudges(
        ctx,
        case,
        ("followup_remind", "followup_escalate"),
        payload={"n": n},
        key=f"{n}:{case.placement_start}",
    )


def remind_followup(ctx: Ctx, task: Task) -> None:
    case = queries.case_by_ref(ctx.session, ref=task.case_ref or "")
    n = int(task.payload["n"])
    if case is None or not _open(case, n) or case.owner_id is None:
        return
    outbox.enqueue(
        ctx.session,
        person_id=case.owner_id,
        kind="followup_reminder",
        reply=question(
            ctx, case, case.owner_id, n, N_("Reminder: follow-up for case {ref} ({student}).")
        ),
        case_ref=case.ref,
        once=f"{n}:{task.id}",
    )


def escalate_followup(ctx: Ctx, task: Task) -> None:
    case = queries.case_by_ref(ctx.session, ref=task.case_ref or "")
    n = int(task.payload["n"])
    if case is None or not _open(case, n):
        return
    owner = queries.person_by_id(ctx.session, person_id=case.owner_id or "")
    notify.tell_coordinators(
        ctx,
        case,
        "escalation",
        N_(
            "Escalation: {name} has not answered the follow-up of case {ref} for "
            "{days} working days."
        ),
        dedupe=f"followup:{n}:{task.id}",
        details=True,
        name=owner.name if owner else "-",
        days=task.payload.get("workdays", "?"),
    )


def answer(ctx: Ctx, ref: str, n: int, what: str) -> list[Reply]:
    """The owner pressed one of the follow-up buttons."""
    case = lifecycle.get_in_scope(ctx, ref)
    t = ctx.t
    if not may_act_as_owner(ctx.actor, case):
        raise Refused(t("Only the owner of case {ref} answers its follow-ups.", ref=case.ref))
    if not _open(case, n) or what not in ANSWERS:
        raise Refused(t("This follow-up question of case {ref} is no longer open.", ref=case.ref))
    if what == "changed":
        return conversation.start(ctx, PLACEMENT_FORM, {"ref": case.ref, "mode": "changed", "n": n})
    if what == "lost":
        ctx.session.execute(_closequestion(case, n, done=n))
        ctx.session.refresh(case)
        return [actions.lose_contact(ctx, case.ref)]
    if what == "dropped":
        lifecycle.apply(ctx, case, "followup_dropped", followup_open=None)
        notify.tell_coordinators(
            ctx,
            case,
            "dropout",
            N_("Case {ref} is reopened: the young person dropped out of their place."),
            dedupe=str(case.version),
            details=True,
        )
        return [
            Reply(
                text=t("Case {ref} is open again with you; the coordinator is told.", ref=case.ref)
            )
        ]
    # still in place
    result = ctx.session.execute(_closequestion(case, n, done=n + 1))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Refused(t("This follow-up question of case {ref} is no longer open.", ref=case.ref))
    ctx.session.refresh(case)
    if n + 1 >= len(ctx.region.schedule.followup_days):
        lifecycle.apply(ctx, case, "followup_ok_last")
        return [Reply(text=t("Good to hear. Case {ref} is closed.", ref=case.ref))]
    _next_followup(ctx, case, n + 1)
    return [
        Reply(
            text=t(
                "Good to hear. I will ask again on {date}.",
                date=format_date(_followup_day(ctx, case, n + 1), locale=t.language),
            )
        )
    ]


def _closequestion(case: Case, n: int, *, done: int) -> Any:
    """Close follow-up question n, but only if it is still open (a double press does nothing).

    A new version, so that an answer begun earlier on the same question (a changed place whose
    form is still open) finds the case changed and is refused."""
    return (
        update(Case)
        .where(col(Case.id) == case.id, col(Case.followup_open) == n)
        .values(followup_open=None, followups_done=done, version=col(Case.version) + 1)
    )
