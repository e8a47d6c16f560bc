"""Correcting a registered leaver: `/edit REF` opens the leaver form filled in with what is
known, the summary shows what confirming changes, and confirming applies it as one audited
change through the same path as registering a known leaver again (`register.update_leaver`):
a new home municipality re-routes a case nobody has taken yet and tells whoever had its card;
a new exit date re-plans when its handover window opens (or makes it due at once). A wrongly
typed student reference is corrected the same way.

Who may: the school contact of the case's school, until a broker has claimed it; the
coordinator, always. Anyone else is told who can.

```mermaid
flowchart LR
    edit["/edit REF"] --> check{may correct?}
    check -- no --> refused
    check -- yes --> form[leaver form, filled in] --> summary[summary: what changes]
    summary -- edit --> form
    summary -- confirm --> again{still may?} -- yes --> update[one audited change]
    update --> replan[re-plan, re-route, tell]
```
"""

from __future__ import annotations

from typing import Any

from babel.dates import format_date

from bot.core import audit, clock, conversation
from bot.core.cases import lifecycle, notify
from bot.core.context import Ctx
from bot.core.conversation.fields import FieldError, ParseEnv
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.intake.fields import FIELDS_BY_NAME
from bot.core.intake.leaver_form import LEAVER_FORM, change_lines
from bot.core.intake.register import changes, check_leaver, known_case, leaver_data, update_leaver
from bot.core.replies import Reply
from bot.core.vocab import CaseState, Consent, Role, label
from bot.store import queries
from bot.store.models import Case

# the leaver's fields as the case keeps them: form field → case column
_COLUMN = {"home_municipality": "home_municipality_code"}


def check_edit(ctx: Ctx, ref: str) -> Case:
    """The case `ref` if the actor may correct it now; else a refusal saying who can."""
    case = lifecycle.get_in_scope(ctx, ref)
    me = ctx.actor
    if Role.coordinator in me.roles:
        return case
    t = ctx.t
    if Role.school_contact in me.roles and me.school_id == case.school_id:
        if case.owner_id is None and case.state in (CaseState.forecast, CaseState.due):
            return case
        if case.owner_id is not None:
            owner = queries.person_by_id(ctx.session, person_id=case.owner_id)
            raise Refused(
                t(
                    "Case {ref} has been taken over by {name}: ask them or the coordinator "
                    "to correct it.",
                    ref=case.ref,
                    name=owner.name if owner else case.owner_id,
                )
            )
        raise Refused(
            t(
                "Case {ref} is {state}: only the coordinator can correct it now.",
                ref=case.ref,
                state=label(t, case.state),
            )
        )
    raise Refused(
        t(
            "Only the school contact of the case's school (until a broker claims it) and the "
            "coordinator can correct case {ref}.",
            ref=case.ref,
        )
    )


def known_answers(ctx: Ctx, case: Case) -> dict[str, str]:
    """The case as answers to the leaver form, in the form's canonical text. Showing them
    shows the personal details (with consent): that is recorded in the audit trail."""
    answers: dict[str, str] = {}
    for spec in LEAVER_FORM.fields:
        value = getattr(case, _COLUMN.get(spec.name, spec.name), None)
        if value is None or value == "":
            continue
        if FIELDS_BY_NAME[spec.name].personal and case.consent != Consent.given:
            continue
        answers[spec.name] = conversation.canonical(value)
    if any(FIELDS_BY_NAME[name].personal for name in answers):
        audit.record(
            ctx.session,
            actor_id=ctx.actor.id,
            transport=ctx.transport,
            action="view_personal",
            case_ref=case.ref,
        )
    return answers


def start(ctx: Ctx, ref: str, *, again: bool = False) -> list[Reply]:
    """/edit REF: the leaver form filled in; what no longer holds (an exit month that has
    passed) is asked again. An unfinished correction of the same case is offered to continue
    (`again`: start afresh from the case as it is)."""
    case = check_edit(ctx, ref)
    env = ParseEnv(t=ctx.t, today=clock.today(ctx.region.tz), session=ctx.session)
    answers: dict[str, str] = {}
    for name, raw in known_answers(ctx, case).items():
        try:
            env.answers[name] = LEAVER_FORM.field(name).parse(raw, env)
        except FieldError:
            continue
        answers[name] = raw
    applicable = [f.name for f in LEAVER_FORM.fields if f.ask_if(env.answers)]
    return conversation.start(
        ctx,
        EDIT_FORM,
        {"ref": case.ref, "school_id": case.school_id},
        answers=answers,
        asked=[name for name in applicable if name in answers or not _required(name)],
        again=again,
    )


def _required(name: str) -> bool:
    return LEAVER_FORM.field(name).required


def _changes(ctx: Ctx, case: Case, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """What confirming `values` changes of `case`: column → (now, then)."""
    changed = changes(case, leaver_data(ctx, values))
    if values["student_ref"] != case.student_ref:
        changed = {"student_ref": (case.student_ref, values["student_ref"]), **changed}
    return changed


def _note(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> str:
    """Above the summary: which case, and what confirming changes."""
    t = ctx.t
    case = queries.case_by_ref(ctx.session, ref=context["ref"])
    if case is None:
        return ""
    text = t("You are correcting case {ref}.", ref=case.ref)
    try:
        lines = change_lines(ctx, case, _changes(ctx, case, values))
    except KeyError:  # a required answer is still missing: the summary asks for it
        return text
    if not lines:
        return text + "\n" + t("Nothing changes yet: press Edit to change an answer.")
    return text + "\n" + t("What changes:") + "\n" + "\n".join(f"• {line}" for line in lines)


def _confirm(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    return correct(ctx, context["ref"], {k: conversation.canonical(v) for k, v in values.items()})


def correct(ctx: Ctx, ref: str, raw: dict[str, str]) -> list[Reply]:
    """Apply the corrected answers `raw` (as typed or kept by the form) to case `ref`."""
    t = ctx.t
    case = check_edit(ctx, ref)  # again: it may have been claimed meanwhile
    env = ParseEnv(t=t, today=clock.today(ctx.region.tz), session=ctx.session)
    checked = check_leaver(raw, env)
    if not checked.ok:
        problems = "; ".join(e.message for e in checked.errors.values())
        raise Refused(t("Please change this first: {problems}", problems=problems))
    values = checked.values
    if values["student_ref"] != case.student_ref:
        other = known_case(ctx, school_id=case.school_id, student_ref=values["student_ref"])
        if other is not None and other.id != case.id:
            raise Refused(
                t(
                    "The student reference {student} is already case {other}.",
                    student=values["student_ref"],
                    other=other.ref,
                )
            )
    changed = _changes(ctx, case, values)
    if not changed:
        return [Reply(text=t("Nothing changed in case {ref}.", ref=case.ref))]
    update_leaver(ctx, case, changed, action="correct")
    text = t("Case {ref} is corrected.", ref=case.ref)
    moved = "home_municipality_code" in changed
    warning = notify.routing_warning(ctx, case.responsible_municipality_code) if moved else ""
    if moved and case.owner_id is None and case.assigned_person_id is None and warning:
        text += " " + warning
    elif moved and case.state == CaseState.due:
        where = queries.municipality_name(ctx.session, code=case.responsible_municipality_code)
        text += " " + t("It is now with the brokers of {municipality}.", municipality=where)
    elif "expected_exit" in changed or "early_leaver" in changed:
        text += " " + _timing(ctx, case)
    return [Reply(text=text, personal=True)]


def _timing(ctx: Ctx, case: Case) -> str:
    """When the case goes to the brokers now."""
    t = ctx.t
    if case.state == CaseState.forecast:
        opens = lifecycle.window_opens(
            case.expected_exit, ctx.region.schedule.handover_window_weeks
        )
        return t(
            "It goes to the brokers on {date}.",
            date=format_date(opens, "d MMMM yyyy", locale=t.language),
        )
    if case.state == CaseState.due:
        return t("It is with the brokers now.")
    return ""


EDIT_FORM = conversation.Form(
    name="leaver_edit",
    title=N_("Correct a leaver"),
    fields=LEAVER_FORM.fields,
    on_confirm=_confirm,
    summary_note=_note,
    restart=lambda ctx, context: start(ctx, context["ref"], again=True),
)
