"""The improvement agenda: an action per chosen point (what, the owner, by when), the owners'
messages at the end of the scan, and the follow-up where they report progress.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core import clock, conversation, tasks
from bot.core.calendar import WORKDAY_START, at_local
from bot.core.context import Ctx
from bot.core.directory import find_person
from bot.core.errors import Refused
from bot.core.i18n import N_, Translator
from bot.core.intake.fields import FieldError, ParseEnv, parse_text
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.core.scan.content import load_scan_content
from bot.core.scan.model import ScanContent
from bot.store import queries
from bot.store.models import ScanAction, ScanSession, Task

STATUSES = ("done", "underway", "stuck")
STATUS_LABELS = {
    "open": N_("open"),
    "done": N_("done"),
    "underway": N_("under way"),
    "stuck": N_("stuck"),
}


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


def parse_due(raw: str, env: ParseEnv) -> date:
    """A date from today to a year ahead: 2027-02-01, 1-2-2027, 1 februari 2027."""
    from bot.core.followup.followups import parse_start

    try:
        found = parse_start(raw, env)
    except FieldError:
        raise FieldError(env.t("Give a date, for example 2027-02-01 or 1 February 2027.")) from None
    if found < env.today:
        raise FieldError(env.t("Give a date from today to a year from now."))
    return found


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


ACTION_FORM = conversation.register(
    conversation.Form(
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
                label=N_("Owner"),
                question=N_("Who pulls it (the owner)? A name or id from the directory."),
                parse=parse_owner,
                required=True,
            ),
            conversation.FormField(
                name="due",
                label=N_("Date"),
                question=N_("By when?"),
                parse=parse_due,
                required=True,
            ),
        ),
        on_confirm=_confirm,
    )
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


def action_line(session: Session, t: Translator, content: ScanContent, action: ScanAction) -> str:
    factor = content.factor(action.factor)
    owner = queries.person_by_id(session, person_id=action.owner_id)
    return t(
        "{factor}: {action} — owner {owner}, by {date} ({status})",
        factor=f"{action.factor}. {factor.title}" if factor else str(action.factor),
        action=action.text,
        owner=owner.name if owner else action.owner_id,
        date=format_date(action.due, "d MMMM yyyy", locale=t.language),
        status=t(STATUS_LABELS.get(action.status, action.status)),
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


def send_to_owners(ctx: Ctx, scan: ScanSession) -> int:
    """Each owner gets their actions by direct message; returns how many owners."""
    assert scan.id is not None
    by_owner: dict[str, list[ScanAction]] = {}
    for action in actions_of(ctx.session, scan.id):
        by_owner.setdefault(action.owner_id, []).append(action)
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
                text=t("You are the owner of these actions. I will ask you how they are going."),
                lines=[action_line(ctx.session, t, content, a) for a in actions],
            ),
            once=f"scan{scan.id}",
        )
    return len(by_owner)


def schedule_followup(ctx: Ctx, scan: ScanSession) -> date:
    weeks = load_scan_content(scan.language).follow_up_weeks
    day = clock.today(ctx.region.tz) + timedelta(weeks=weeks)
    tasks.schedule(
        ctx.session,
        kind="scan_followup",
        due_at=at_local(day, WORKDAY_START, ctx.region.tz),
        payload={"session": scan.id},
        dedupe_key=f"scan_followup:{scan.id}",
    )
    return day


@tasks.handler("scan_followup")
def _followup(ctx: Ctx, task: Task) -> None:
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
                    Button(label=t(STATUS_LABELS[s]), action=f"sa:{action.id}:{s}")
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
    return [Reply(text=ctx.t("Thank you; the note is recorded."))]


NOTE_FORM = conversation.register(
    conversation.Form(
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
    return [recorded, *conversation.start(ctx, NOTE_FORM, {"action": action.id})]


def open_actions(session: Session) -> int:
    """Actions of any scan's agenda that are not done yet (for the weekly digest)."""
    return session.exec(
        select(func.count()).select_from(ScanAction).where(ScanAction.status != "done")
    ).one()


# --- export -----------------------------------------------------------------------------------


def export_rows(session: Session, t: Translator, scan: ScanSession) -> list[list[str]]:
    """The results and the agenda as rows: a header, then one row per factor or action."""
    from bot.core.scan.results import results_of

    assert scan.id is not None
    content = load_scan_content(scan.language)
    found = results_of(session, scan.id)
    rows = [[t("part"), t("factor"), t("title"), t("average"), t("spread"), t("votes"), ""]]
    titles = {0: t("Warm-up"), **{f.number: f.title for f in content.factors}}
    for number, title in titles.items():
        result = found.get(number)
        if result is not None:
            rows.append(
                [
                    "result",
                    str(number),
                    title,
                    f"{result.average:.2f}",
                    f"{result.spread:.2f}",
                    str(result.votes),
                    "",
                ]
            )
    rows.append(
        [t("part"), t("factor"), t("action"), t("owner"), t("date"), t("status"), t("note")]
    )
    for action in actions_of(session, scan.id):
        owner = queries.person_by_id(session, person_id=action.owner_id)
        rows.append(
            [
                "action",
                str(action.factor),
                action.text,
                owner.name if owner else action.owner_id,
                action.due.isoformat(),
                action.status,
                action.note or "",
            ]
        )
    return rows


def export_markdown(session: Session, t: Translator, scan: ScanSession) -> str:
    from bot.core.scan.results import result_line, results_of

    assert scan.id is not None
    content = load_scan_content(scan.language)
    found = results_of(session, scan.id)
    out = [
        "# " + t("Participatiescan {id} — {date}", id=scan.id, date=scan.opened_at.date()),
        "",
        "## " + t("Results"),
        "",
    ]
    titles = {0: t("Warm-up"), **{f.number: f"{f.number}. {f.title}" for f in content.factors}}
    for number, title in titles.items():
        if number in found:
            out.append(f"- {title}: {result_line(t, found[number], None)}")
    out += ["", "## " + t("Improvement agenda"), ""]
    actions = actions_of(session, scan.id)
    out += [f"- {action_line(session, t, content, a)}" for a in actions] or [
        t("No actions on the agenda yet.")
    ]
    return "\n".join(out) + "\n"
