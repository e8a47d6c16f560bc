"""The improvement agenda: an action per chosen point (what, the owner, by when), the owners'
messages at the end of the scan, and the follow-up where they report progress.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from sqlmodel import Session, col, select

from bot.core import clock, conversation, tasks
from bot.core.calendar import WORKDAY_START, add_working_days, at_local, is_working_day
from bot.core.context import Ctx
from bot.core.conversation.fields import MONTHS, FieldError, ParseEnv, parse_text
from bot.core.directory import find_person
from bot.core.errors import Refused
from bot.core.i18n import N_, Translator
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.core.scan.content import load_scan_content
from bot.core.scan.model import ScanContent
from bot.core.vocab import Role
from bot.store import queries
from bot.store.models import ScanAction, ScanSession, Task

STATUSES = ("done", "underway", "stuck")
STATUS_LABELS = {
    "open": N_("open"),
    "done": N_("done"),
    "underway": N_("under way"),
    "stuck": N_("stuck"),
}
# the owner's progress buttons: capitalised, as every button label is
BUTTON_LABELS = {"done": N_("Done"), "underway": N_("Under way"), "stuck": N_("Stuck")}
MAX_YEARS_AHEAD = 2  # an action's date may lie up to two years ahead


def parse_owner(raw: str, env: ParseEnv) -> str:
    """A person of the directory by id or name; kept as 'Name (id)'."""
    text = raw.strip()
    if m := re.fullmatch(r".*\(([^()]+)\)", text):
        person = queries.person_by_id(env.session, person_id=m[1].strip())
        if person is not None and person.active:
            return f"{person.name} ({person.id})"
    found = find_person(env.session, text)
    if not found:
        raise FieldError(env.t('Nobody in the directory matches "{query}".', query=text[:40]))
    if len(found) > 1:
        raise FieldError(
            env.t("Several people match; which one?"),
            [f"{p.name} ({p.id})" for p in found[:8]],
        )
    return f"{found[0].name} ({found[0].id})"


def owner_id(value: str) -> str:
    m = re.fullmatch(r".*\(([^()]+)\)", value)
    return m[1] if m else value


def parse_day(raw: str) -> date | None:
    """A day as people write it: 2027-03-01, 1-3-2027, 1 maart 2027, 1 March 2027."""
    text = raw.strip().casefold()
    numbers: tuple[str, str, str] | None = None
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        numbers = (m[1], m[2], m[3])
    elif m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text):
        numbers = (m[3], m[2], m[1])
    elif (m := re.fullmatch(r"(\d{1,2}) ([a-z]+)\.? (\d{4})", text)) and m[2] in MONTHS:
        numbers = (m[3], str(MONTHS[m[2]]), m[1])
    if numbers is None:
        return None
    try:
        return date(int(numbers[0]), int(numbers[1]), int(numbers[2]))
    except ValueError:
        return None


def parse_due(raw: str, env: ParseEnv) -> date:
    """The date of an action: from today up to two years ahead."""
    found = parse_day(raw)
    if found is None:
        raise FieldError(env.t("Give a date, for example 2027-03-01 or 1 March 2027."))
    last = date(env.today.year + MAX_YEARS_AHEAD, env.today.month, min(env.today.day, 28))
    if not env.today <= found <= last:
        raise FieldError(env.t("Give a date from today to {date}.", date=long_date(env.t, last)))
    return found


def long_date(t: Translator, day: date) -> str:
    """'1 maart 2027': an action's date, a follow-up's, a meeting's day, in full."""
    return format_date(day, "d MMMM yyyy", locale=t.language)


def _confirm(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    scan = ctx.session.get(ScanSession, int(context["session"]))
    if scan is None:
        raise Refused(ctx.t("That button no longer works. Type /help."))
    now = clock.now()
    action = ScanAction(
        session_id=int(context["session"]),
        factor=int(context["factor"]),
        text=values["action"],
        owner_id=owner_id(values["owner"]),
        due=values["due"],
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(action)
    return [
        Reply(
            text=ctx.t(
                "The action for factor {n} is on the agenda. /scan agenda shows it in the channel.",
                n=context["factor"],
            )
        )
    ]


ACTION_FORM = conversation.Form(
    name="scan_action",
    title=N_("Improvement action"),
    fields=(
        conversation.FormField(
            name="action",
            label=N_("Action"),
            question=N_("What will be done about this point? One or two sentences."),
            parse=parse_text(300),
            required=True,
        ),
        conversation.FormField(
            name="owner",
            label=N_("Action owner"),
            question=N_("Who pulls it (the owner)? A name or id from the directory."),
            parse=parse_owner,
            required=True,
        ),
        conversation.FormField(
            name="due",
            label=N_("No later than"),
            question=N_("By when?"),
            parse=parse_due,
            required=True,
            show=lambda ctx, raw: long_date(ctx.t, date.fromisoformat(raw)),
        ),
    ),
    on_confirm=_confirm,
)


def start_form(ctx: Ctx, scan: ScanSession, factor: int) -> list[Reply]:
    """The facilitator's short form for a chosen point, in their private chat."""
    assert scan.id is not None
    return conversation.start(ctx, ACTION_FORM, {"session": scan.id, "factor": factor})


# --- the agenda -------------------------------------------------------------------------------


def actions_of(session: Session, scan_id: int) -> list[ScanAction]:
    return list(
        session.exec(
            select(ScanAction)
            .where(ScanAction.session_id == scan_id)
            .order_by(col(ScanAction.factor), col(ScanAction.id))
        ).all()
    )


def owner_name(session: Session, action: ScanAction) -> str:
    owner = queries.person_by_id(session, person_id=action.owner_id)
    return owner.name if owner else action.owner_id


def status_of(t: Translator, action: ScanAction) -> str:
    return t(STATUS_LABELS.get(action.status, action.status))


def action_line(session: Session, t: Translator, content: ScanContent, action: ScanAction) -> str:
    factor = content.factor(action.factor)
    return t(
        "{factor}: {action} — owner {owner}, by {date} ({status})",
        factor=f"{action.factor}. {factor.title}" if factor else str(action.factor),
        action=action.text,
        owner=owner_name(session, action),
        date=long_date(t, action.due),
        status=status_of(t, action),
    ) + (f" — {action.note}" if action.note else "")


def agenda_reply(session: Session, t: Translator, scan: ScanSession) -> Reply:
    assert scan.id is not None
    content = load_scan_content(scan.language)
    actions = actions_of(session, scan.id)
    return Reply(
        title=t("Improvement agenda"),
        text="" if actions else t("No actions on the agenda yet."),
        lines=[action_line(session, t, content, a) for a in actions],
        to_place=True,
    )


def send_to_owners(ctx: Ctx, scan: ScanSession) -> tuple[int, date | None]:
    """Each owner gets their actions by direct message, with the day they are asked about
    their progress; returns how many owners, and that day (None without actions)."""
    assert scan.id is not None
    by_owner: dict[str, list[ScanAction]] = {}
    for action in actions_of(ctx.session, scan.id):
        by_owner.setdefault(action.owner_id, []).append(action)
    if not by_owner:
        return 0, None
    day = schedule_followup(ctx, scan)
    for person_id, actions in by_owner.items():
        person = queries.person_by_id(ctx.session, person_id=person_id)
        if person is None:
            continue
        t = ctx.translator_for(person)
        content = load_scan_content(t.language)
        outbox.enqueue(
            ctx.session,
            person_id=person_id,
            kind="scan_agenda",
            reply=Reply(
                title=t("Your actions from the Participatiescan"),
                text=t(
                    "You are the owner of these actions. On {date} I will ask you how they "
                    "are going.",
                    date=long_date(t, day),
                ),
                lines=[action_line(ctx.session, t, content, a) for a in actions],
            ),
            once=f"scan{scan.id}",
        )
    return len(by_owner), day


def schedule_followup(ctx: Ctx, scan: ScanSession) -> date:
    """The owners are asked at the reminder hour of a working day: the follow-up period
    after today, or the first working day after it."""
    weeks = load_scan_content(scan.language).follow_up_weeks
    day = clock.today(ctx.region.tz) + timedelta(weeks=weeks)
    if not is_working_day(day):
        day = add_working_days(day, 1)
    tasks.schedule(
        ctx.session,
        kind="scan_followup",
        due_at=at_local(day, WORKDAY_START, ctx.region.tz),
        payload={"session": scan.id},
        dedupe_key=f"scan_followup:{scan.id}",
    )
    return day


def ask_action_owners(ctx: Ctx, task: Task) -> None:
    """Ask each owner how their unfinished actions are going."""
    scan_id = int(task.payload["session"])
    for action in actions_of(ctx.session, scan_id):
        if action.status == "done":
            continue
        person = queries.person_by_id(ctx.session, person_id=action.owner_id)
        if person is None or not person.active:
            continue
        t = ctx.translator_for(person)
        content = load_scan_content(t.language)
        outbox.enqueue(
            ctx.session,
            person_id=person.id,
            kind="scan_progress",
            reply=Reply(
                title=t("How is this action going?"),
                text=action_line(ctx.session, t, content, action),
                buttons=[
                    Button(label=t(BUTTON_LABELS[s]), action=f"sa:{action.id}:{s}")
                    for s in STATUSES
                ],
            ),
            once=f"{action.id}",
        )


def _note_confirm(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    action = ctx.session.get(ScanAction, int(context["action"]))
    if action is None:
        raise Refused(ctx.t("That button no longer works. Type /help."))
    action.note = values.get("note") or None
    action.updated_at = clock.now()
    ctx.session.add(action)
    told = tell_stuck(ctx, action) if action.status == "stuck" else 0
    if told:
        return [
            Reply(
                text=ctx.t(
                    "Thank you; the note is recorded. The coordinator and the facilitator "
                    "know the action is stuck."
                )
            )
        ]
    return [Reply(text=ctx.t("Thank you; the note is recorded."))]


def tell_stuck(ctx: Ctx, action: ScanAction) -> int:
    """An action reported stuck, with the owner's note, to the coordinators and the scan's
    facilitator at once; returns to how many people."""
    scan = ctx.session.get(ScanSession, action.session_id)
    to = {p.id: p for p in queries.people_with_role(ctx.session, role=Role.coordinator.value)}
    facilitator = queries.person_by_id(ctx.session, person_id=scan.facilitator_id) if scan else None
    if facilitator is not None and facilitator.active:
        to[facilitator.id] = facilitator
    to.pop(ctx.actor.id, None)  # the owner knows
    for person in to.values():
        t = ctx.translator_for(person)
        content = load_scan_content(t.language)
        outbox.enqueue(
            ctx.session,
            person_id=person.id,
            kind="scan_stuck",
            reply=Reply(
                title=t("An action of the improvement agenda is stuck"),
                text=t(
                    "{owner} reports that this action is stuck:",
                    owner=owner_name(ctx.session, action),
                ),
                lines=[action_line(ctx.session, t, content, action)],
            ),
            once=f"{action.id}:{action.updated_at.isoformat()}",
        )
    return len(to)


NOTE_FORM = conversation.Form(
    name="scan_note",
    title=N_("Progress of an action"),
    fields=(
        conversation.FormField(
            name="note",
            label=N_("Note"),
            question=N_("A short note on how it is going (or skip)."),
            parse=parse_text(300),
        ),
    ),
    on_confirm=_note_confirm,
)


def report(ctx: Ctx, rest: str) -> list[Reply]:
    """A progress button: 'sa:<action>:<status>' — by the action's owner."""
    action_s, _, status = rest.partition(":")
    action = ctx.session.get(ScanAction, int(action_s)) if action_s.isdigit() else None
    if action is None or status not in STATUSES:
        raise Refused(ctx.t("That button no longer works. Type /help."))
    if action.owner_id != ctx.actor.id:
        raise Refused(ctx.t("Only the owner of this action can report its progress."))
    action.status = status
    action.updated_at = clock.now()
    ctx.session.add(action)
    ctx.session.flush()
    recorded = Reply(text=ctx.t("Recorded: {status}.", status=ctx.t(STATUS_LABELS[status])))
    if status == "stuck":
        recorded = Reply(
            text=ctx.t(
                "Recorded: stuck. Your note goes with it to the coordinator and the facilitator."
            )
        )
    return [recorded, *conversation.start(ctx, NOTE_FORM, {"action": action.id})]


def open_actions(session: Session, today: date) -> list[ScanAction]:
    """Actions of any scan's agenda that are not done yet (for the weekly digest): stuck ones
    first, then those past their date, then by date."""
    found = session.exec(select(ScanAction).where(ScanAction.status != "done")).all()
    return sorted(found, key=lambda a: (a.status != "stuck", a.due >= today, a.due, a.id or 0))
