"""The guided intake of one leaver (product.md 5.1): the form, and what confirming does.

The questions reuse the leaver's field parsers (bot/core/fields.py), so the conversation, the
CSV import and the Slack modal understand answers alike. Name, contact details and notes are
asked only when the young person gave consent.

```mermaid
flowchart LR
    student_ref --> home_municipality --> programme
    programme -- vso --> vso_profile --> early_leaver
    programme -- pro / entree --> early_leaver
    early_leaver --> expected_exit --> birth_year --> destination_wish --> consent
    consent -- given --> name --> contact --> notes --> summary
    consent -- refused / not asked --> summary
    summary -- confirm --> case
```
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.core import conversation
from bot.core.cases import notify
from bot.core.context import Ctx
from bot.core.conversation.fields import ParseEnv, full_date
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.intake.fields import FIELDS_BY_NAME
from bot.core.intake.register import (
    changes,
    check_leaver,
    known_case,
    leaver_data,
    reroutes,
    save_leaver,
)
from bot.core.replies import Button, Reply
from bot.core.vocab import CaseState, Consent, Programme, label
from bot.store import queries
from bot.store.models import Case


def _f(name: str, question: str, **kw: Any) -> conversation.FormField:
    """A leaver field asked with `question`, and the field's help below it unless the
    question says it already (help="")."""
    spec = FIELDS_BY_NAME[name]
    return conversation.FormField(
        name=name,
        label=spec.label,
        question=question,
        parse=spec.parse,
        required=spec.required,
        choices=spec.choices,
        **{"help": spec.help, **kw},
    )


def _municipality_name(ctx: Ctx, code: str) -> str:
    """A municipality by name, also one outside the region (never its CBS code)."""
    return queries.municipality_name(ctx.session, code=code)


def _consented(values: dict[str, Any]) -> bool:
    return values.get("consent") == Consent.given


def _is_vso(values: dict[str, Any]) -> bool:
    return values.get("programme") == Programme.vso


# a case column → the leaver field it comes from (for its label)
_FIELD_OF = {"home_municipality_code": "home_municipality"}


def _already_known(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> str:
    """Above the summary: whether this leaver is known already, and what confirming changes."""
    if "student_ref" not in values or "home_municipality" not in values:
        return ""
    try:
        data = leaver_data(ctx, values)
    except KeyError:  # a required answer is still missing: the summary asks for it
        return ""
    case = known_case(ctx, school_id=context["school_id"], student_ref=values["student_ref"])
    if case is None:
        return ""
    t = ctx.t
    text = t(
        "This leaver is already known as case {ref} ({state}). Confirming changes that case.",
        ref=case.ref,
        state=label(t, case.state),
    )
    lines = change_lines(ctx, case, changes(case, data))
    if not lines:
        return text + "\n" + t("Nothing changes.")
    return text + "\n" + "\n".join(f"• {line}" for line in lines)


def change_lines(ctx: Ctx, case: Case, changed: dict[str, tuple[Any, Any]]) -> list[str]:
    """What confirming changes of `case`, one line per field (a personal detail only as
    "changed" or "erased"), and what follows from it (erasure, re-routing)."""
    t = ctx.t
    lines = []
    for column, (old, new) in changed.items():
        if column == "consent_date":
            continue
        spec = FIELDS_BY_NAME[_FIELD_OF.get(column, column)]
        if spec.personal:
            what = t("erased") if new is None else t("changed")
            lines.append(f"{t(spec.label)}: {what}")
        else:
            lines.append(f"{t(spec.label)}: {_value(ctx, old)} → {_value(ctx, new)}")
    if not lines:
        return []
    if "consent" in changed and changed["consent"][0] == Consent.given:
        lines.append(
            t("Without consent, the name, contact details and notes are erased everywhere.")
        )
    if "home_municipality_code" in changed and reroutes(case):
        warning = notify.routing_warning(ctx, changed["home_municipality_code"][1])
        lines.append(warning or t("The case moves to the brokers of the new home municipality."))
    return lines


def _value(ctx: Ctx, value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return ctx.t("yes") if value else ctx.t("no")
    if isinstance(value, date):
        return full_date(ctx.t, value)
    if isinstance(value, str) and re.fullmatch(r"GM\d{4}", value):
        return queries.municipality_name(ctx.session, code=value)
    return label(ctx.t, str(value))


def _confirm(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    from bot.core import clock

    raw = {k: conversation.canonical(v) for k, v in values.items()}
    env = ParseEnv(t=ctx.t, today=clock.today(ctx.region.tz), session=ctx.session)
    checked = check_leaver(raw, env)
    if not checked.ok:
        problems = "; ".join(e.message for e in checked.errors.values())
        raise Refused(ctx.t("Please change this first: {problems}", problems=problems))
    case, created = save_leaver(ctx, school_id=context["school_id"], values=checked.values)
    t = ctx.t
    if created:
        text = t(
            "Thank you. {student} is registered as case {ref}.",
            student=case.student_ref,
            ref=case.ref,
        )
    else:
        text = t(
            "{student} was already known as case {ref}; it is updated.",
            student=case.student_ref,
            ref=case.ref,
        )
    if case.state == CaseState.due:
        text += " " + notify.routing_note(ctx, case)
    elif case.owner_id is None and case.assigned_person_id is None:
        warning = notify.routing_warning(ctx, case.responsible_municipality_code)
        text += " " + warning if warning else ""
    return [
        Reply(
            text=text,
            buttons=[
                Button(label=t("Add another leaver"), action="cmd:leaver"),
                Button(label=t("Show my list"), action="leavers:1"),
            ],
        )
    ]


LEAVER_FORM = conversation.Form(
    name="leaver",
    title=N_("New leaver"),
    fields=(
        _f(
            "student_ref",
            N_(
                "What is the school's own reference for this student? Initials or a "
                "student number, not the full name."
            ),
            help="",  # the question says it
        ),
        _f(
            "home_municipality",
            N_("In which municipality or place (woonplaats) does the young person live?"),
            show=_municipality_name,
        ),
        _f("programme", N_("Which programme does the young person follow?")),
        _f(
            "vso_profile",
            N_("Which VSO profile?"),
            ask_if=_is_vso,
            required_if=_is_vso,
        ),
        conversation.FormField(
            name="early_leaver",
            label=FIELDS_BY_NAME["early_leaver"].label,
            question=N_("Is this an early leaver: leaving before the planned date?"),
            parse=FIELDS_BY_NAME["early_leaver"].parse,
            choices=("yes", "no"),
        ),
        _f(
            "expected_exit",
            N_(
                "When is the young person expected to leave school? A month is enough, "
                "for example June 2027."
            ),
        ),
        _f("birth_year", N_("What is the year of birth?")),
        _f("destination_wish", N_("What does the young person want after school?")),
        _f(
            "consent",
            N_(
                "Has the young person (or a parent) consented to sharing their personal "
                "details with the broker?"
            ),
        ),
        _f("name", N_("What is the young person's name?"), ask_if=_consented),
        _f(
            "contact",
            N_("How can the broker reach the young person or a parent?"),
            ask_if=_consented,
        ),
        _f(
            "notes",
            N_("What does the school know that helps the handover?"),
            ask_if=_consented,
        ),
    ),
    on_confirm=_confirm,
    summary_note=_already_known,
)


def start(ctx: Ctx) -> list[Reply]:
    """/leaver: for a school contact, about their own school."""
    school_id = ctx.actor.school_id
    if school_id is None or queries.school_by_id(ctx.session, school_id=school_id) is None:
        raise Refused(ctx.t("You are not linked to a school in the directory."))
    return conversation.start(ctx, LEAVER_FORM, {"school_id": school_id})
