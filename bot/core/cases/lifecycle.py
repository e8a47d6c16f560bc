"""The case and its life (product.md section 4): states, the transitions between them, and
when a forecast becomes due. What people do with a case is in `actions`; who is told, in
`bot.core.cases.notify`.

Every transition is checked against the table below; an illegal one is refused with a reason
in the actor's language. A transition is written as one conditional UPDATE on the case's
version, so two people acting on the same case at once cannot both succeed: exactly one broker
owns a claimed case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import insert, or_, tuple_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import ClauseElement
from sqlmodel import col, select

from bot.core import audit, clock, tasks
from bot.core.calendar import at_local, working_days_later
from bot.core.cases import notify
from bot.core.cases.permissions import scope_condition
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import N_, Translator
from bot.core.messaging import outbox
from bot.core.vocab import OPEN_STATES, CaseState, label
from bot.store import queries
from bot.store.models import AuditEvent, Case

K = TypeVar("K")

# Forecasts become due early in the morning of the day their handover window opens.
WINDOW_OPENS_AT = time(7, 0)
# Reasons people type (transfer, close, withdraw) are forwarded to others: kept short.
REASON_MAX = 500


def limit_text(t: Translator, text: str, limit: int) -> str:
    """`text` (already cleaned of control characters) if it is at most `limit` long."""
    text = text.strip()
    if len(text) > limit:
        raise Refused(
            t(
                "That is too long: at most {limit} characters, please (this was {n}).",
                limit=limit,
                n=len(text),
            )
        )
    return text


@dataclass(frozen=True)
class Transition:
    sources: frozenset[CaseState]
    target: CaseState
    what: str  # what the actor tried, for the refusal message


_S = CaseState
TRANSITIONS: dict[str, Transition] = {
    "make_due": Transition(frozenset({_S.forecast}), _S.due, N_("make it due")),
    "claim": Transition(frozenset({_S.due}), _S.claimed, N_("claim it")),
    "transfer": Transition(frozenset({_S.due, _S.claimed}), _S.due, N_("transfer it")),
    "place": Transition(frozenset({_S.claimed}), _S.placed, N_("record a placement")),
    "followup_ok_last": Transition(frozenset({_S.placed}), _S.closed, N_("close it")),
    "followup_changed": Transition(frozenset({_S.placed}), _S.placed, N_("record a new place")),
    "followup_dropped": Transition(frozenset({_S.placed}), _S.claimed, N_("reopen it")),
    "withdraw": Transition(OPEN_STATES, _S.withdrawn, N_("withdraw it")),
    "reopen": Transition(frozenset({_S.withdrawn}), _S.forecast, N_("reopen it")),
    "close_no_support": Transition(frozenset({_S.claimed}), _S.closed, N_("close it")),
    "lose_contact": Transition(frozenset({_S.claimed, _S.placed}), _S.lost, N_("mark it lost")),
    "hand_over_outside": Transition(
        frozenset({_S.due, _S.claimed}), _S.closed, N_("hand it over outside the region")
    ),
}


def check(t: Translator, case: Case, name: str) -> Transition:
    tr = TRANSITIONS[name]
    if CaseState(case.state) not in tr.sources:
        if case.state == tr.target:
            raise Refused(
                t("Case {ref} is already {state}.", ref=case.ref, state=label(t, tr.target))
            )
        raise Refused(
            t(
                "Case {ref} is {state}; you can only {what} when it is {allowed}.",
                ref=case.ref,
                state=label(t, case.state),
                what=t(tr.what),
                allowed=one_of(t, [label(t, s) for s in CaseState if s in tr.sources]),
            )
        )
    return tr


def one_of(t: Translator, words: list[str]) -> str:
    """'due, claimed or placed', in the reader's language."""
    if len(words) < 2:
        return "".join(words)
    return t("{items} or {last}", items=", ".join(words[:-1]), last=words[-1])


def apply(ctx: Ctx, case: Case, name: str, **changes: Any) -> Case:
    """Move `case` along transition `name`, atomically, and record it in the audit trail."""
    tr = check(ctx.t, case, name)
    before = case.state
    update_case(
        ctx,
        case,
        name,
        {"state": tr.target.value, **changes},
        **{"from": before, "to": tr.target.value},
        **_pseudonymous(changes),
    )
    return case


def update_case(ctx: Ctx, case: Case, action: str, values: dict[str, Any], **detail: Any) -> Case:
    """Write `values` to `case` if nobody changed it since it was read (one conditional
    UPDATE on its version), and record `action` with `detail` in the audit trail."""
    written = {**values, "version": case.version + 1, "updated_at": clock.now()}
    result = ctx.session.execute(
        update(Case)
        .where(col(Case.id) == case.id, col(Case.version) == case.version)
        .values(**written)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        ctx.session.refresh(case)  # as someone else left it
        raise Refused(changed_meanwhile(ctx, case))
    if any(isinstance(v, ClauseElement) for v in written.values()):
        ctx.session.refresh(case)
    else:  # the row is now `case` with these values: no need to read it back
        for key, value in written.items():
            set_committed_value(case, key, value)
    audit.record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action=action,
        case_ref=case.ref,
        **detail,
    )
    return case


def _pseudonymous(changes: dict[str, Any]) -> dict[str, Any]:
    keep = {
        "owner_id",
        "responsible_municipality_code",
        "assigned_person_id",
        "destination",
        "urgent",
    }
    return {k: v for k, v in changes.items() if k in keep}


def changed_meanwhile(ctx: Ctx, case: Case) -> str:
    t = ctx.t
    if case.state == CaseState.claimed and case.owner_id == ctx.actor.id:
        return t("You have already claimed case {ref}.", ref=case.ref)
    if case.state == CaseState.claimed and case.owner_id:
        owner = queries.person_by_id(ctx.session, person_id=case.owner_id)
        return t(
            "Case {ref} is already claimed by {name}.",
            ref=case.ref,
            name=owner.name if owner else case.owner_id,
        )
    return t(
        "Case {ref} was changed by someone else just now; it is {state} now.",
        ref=case.ref,
        state=label(t, case.state),
    )


# --- finding a case ------------------------------------------------------------------------


def get_in_scope(ctx: Ctx, ref: str) -> Case:
    """The case `ref` if the actor may see it. Unknown and out of scope read the same: one
    query, the scope condition of `permissions` added to the look-up by reference."""
    ref = ref.strip().upper()
    case = ctx.session.exec(
        select(Case).where(col(Case.ref) == ref, scope_condition(ctx.actor))
    ).first()
    if case is None:
        raise Refused(ctx.t("There is no case {ref} in your view.", ref=ref))
    return case


# --- the transitions as people use them ----------------------------------------------------


def make_due(ctx: Ctx, case: Case) -> Case:
    """The handover window opened (or an early leaver was registered): ping the brokers."""
    apply(ctx, case, "make_due", due_at=clock.now(), urgent=case.urgent or case.early_leaver)
    notify.notify_due(ctx, case)
    schedule_unclaimed_checks(ctx, case)
    return case


def make_due_many(ctx: Ctx, cases: Mapping[K, Case]) -> dict[K, Exception]:
    """`make_due` for many cases at once (keyed by what the caller knows them by): in a few
    statements for all instead of several for each. Returns the keys of those that failed,
    with why; of these nothing is written.

    What each case's move writes (its audit events, its pings, its reminder and escalation)
    is made first, with the case object showing its new values (not yet written, and not
    for the session to write); one conditional UPDATE then moves those whose making
    succeeded, each only if nobody changed it since it was read (as `update_case` does one
    by one; the others fail as there, with `Refused`, and show what was read again). Only
    the writes of the moved ones are recorded, together."""
    session = ctx.session
    now = clock.now()
    known = ctx.known or queries.Remembered(session)
    made: dict[K, tuple[dict[str, Any], list[dict[str, Any]], list[outbox.Message]]] = {}
    failed: dict[K, Exception] = {}
    for key, case in cases.items():
        before = {name: getattr(case, name) for name in _DUE_COLUMNS}
        try:
            check(ctx.t, case, "make_due")
            _show(case, state=CaseState.due.value, due_at=now, updated_at=now)
            _show(case, urgent=case.urgent or case.early_leaver, version=case.version + 1)
            detail = {"from": before["state"], "to": case.state, "urgent": case.urgent}
            events = [
                audit.row(
                    actor_id=ctx.actor.id,
                    transport=ctx.transport,
                    action="make_due",
                    case_ref=case.ref,
                    **detail,
                )
            ]
            messages = notify.due_messages(ctx, case, known=known, events=events)
            made[key] = (before, events, messages)
        except Exception as exc:
            _show(case, **before)
            failed[key] = exc
    moved = _move_due(ctx, [(cases[key], before) for key, (before, _, _) in made.items()], now)
    events, messages, checks = [], [], []
    for key, (before, their_events, their_messages) in made.items():
        case = cases[key]
        if case.id not in moved:
            _show(case, **before)
            session.refresh(case)
            failed[key] = Refused(changed_meanwhile(ctx, case))
            continue
        events += their_events
        messages += their_messages
        checks += unclaimed_check_tasks(ctx, case.ref, case.version)
    if events:
        session.execute(insert(AuditEvent.__table__), events)  # type: ignore[attr-defined]
    outbox.enqueue_all(session, messages)
    tasks.schedule_all(session, checks)
    return failed


# What making a case due changes (`make_due` through `update_case`).
_DUE_COLUMNS = ("state", "due_at", "updated_at", "urgent", "version")


def _show(case: Case, **values: Any) -> None:
    """Set attributes of `case` as if read so from the database: the session sees nothing to
    write."""
    for name, value in values.items():
        set_committed_value(case, name, value)


def _move_due(ctx: Ctx, pairs: list[tuple[Case, dict[str, Any]]], now: datetime) -> set[int]:
    """Forecast → due, in one UPDATE, for each case (showing its new values; `before`, those
    read) whose version is still the one read: the ids of those moved."""
    if not pairs:
        return set()
    read = [(case.id, before["version"]) for case, before in pairs]
    return set(
        ctx.session.execute(
            update(Case)
            .where(tuple_(col(Case.id), col(Case.version)).in_(read))
            .values(
                state=CaseState.due.value,
                due_at=now,
                urgent=or_(col(Case.urgent), col(Case.early_leaver)),
                version=col(Case.version) + 1,
                updated_at=now,
            )
            .returning(col(Case.id))
            .execution_options(synchronize_session=False)
        ).scalars()
    )


def schedule_unclaimed_checks(ctx: Ctx, case: Case) -> None:
    """A reminder and an escalation for as long as this due case stays unclaimed.

    The tasks carry the case's version: once anything happens to the case they do nothing.
    """
    tasks.schedule_all(ctx.session, unclaimed_check_tasks(ctx, case.ref, case.version))


def unclaimed_check_tasks(ctx: Ctx, ref: str, version: int) -> list[dict[str, Any]]:
    """The rows `schedule_unclaimed_checks` records for case `ref` at `version`."""
    return nudge_tasks(
        ctx,
        ref,
        ("remind_unclaimed", "escalate_unclaimed"),
        payload={"version": version},
        key=str(version),
    )


def schedule_nudges(
    ctx: Ctx, case: Case, kinds: tuple[str, str], *, payload: dict[str, Any], key: str
) -> None:
    """Two tasks: `kinds[0]` after remind_after_workdays, `kinds[1]` after escalate_after_workdays
    working days from now. Their handlers decide at run time whether there is still a reason."""
    tasks.schedule_all(ctx.session, nudge_tasks(ctx, case.ref, kinds, payload=payload, key=key))


def nudge_tasks(
    ctx: Ctx, ref: str, kinds: tuple[str, str], *, payload: dict[str, Any], key: str
) -> list[dict[str, Any]]:
    rules = ctx.region.schedule
    now = clock.now()
    return [
        tasks.row(
            kind=kind,
            due_at=working_days_later(now, days, ctx.region.tz),
            case_ref=ref,
            payload={**payload, "workdays": days},
            dedupe_key=f"{kind}:{ref}:{key}",
        )
        for kind, days in zip(
            kinds, (rules.remind_after_workdays, rules.escalate_after_workdays), strict=True
        )
    ]


def schedule_window(ctx: Ctx, case: Case, opens: date) -> None:
    """The task that makes a forecast due on the day its handover window opens."""
    tasks.schedule_all(ctx.session, [window_task(ctx, case.ref, opens)])


def window_task(ctx: Ctx, ref: str, opens: date) -> dict[str, Any]:
    """The row `schedule_window` records."""
    return tasks.row(
        kind="window_open",
        due_at=at_local(opens, WINDOW_OPENS_AT, ctx.region.tz),
        case_ref=ref,
        dedupe_key=f"window_open:{ref}:{opens.isoformat()}",
    )


def window_opens(expected_exit: date, weeks: int) -> date:
    return expected_exit - timedelta(weeks=weeks)


def due_if_window_open(ctx: Ctx, case: Case) -> None:
    """Due now (early leaver, or the window is open already), or a task for the day it opens."""
    if case.state != CaseState.forecast:
        return
    opens = window_opens(case.expected_exit, ctx.region.schedule.handover_window_weeks)
    if case.early_leaver or opens <= clock.today(ctx.region.tz):
        make_due(ctx, case)
    else:
        schedule_window(ctx, case, opens)
