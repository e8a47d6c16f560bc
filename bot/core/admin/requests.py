"""Privacy requests from the chat (product.md 5.7): export, erase and the audit trail of a case.

`/admin export REF` sends the coordinator, in their private chat, a JSON file with everything
stored about the case (the same export as `vangnet export`) and a readable summary; the export
is audited. `/admin erase REF` asks to confirm with a button, then erases as `vangnet erase`
does. `/admin audit REF [page]` shows the case's audit trail: who did what, who saw the
personal details, when; paged.
"""

from __future__ import annotations

import json
from typing import Any

from babel.dates import format_datetime

from bot.core import audit, privacy
from bot.core.cases.cards import AUDIT_LABELS
from bot.core.context import SYSTEM_ID, Ctx, system_person
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.replies import Button, Item, Reply
from bot.core.vocab import label
from bot.store import queries

PAGE_SIZE = 15
PERSONAL_LABELS = (
    ("name", N_("Name")),
    ("contact", N_("Contact details")),
    ("notes", N_("What the school knows")),
)
YES, NO = "yes", "no"


def export(ctx: Ctx, ref: str) -> list[Reply]:
    data = privacy.export_case(ctx, ref)
    t = ctx.t
    case_ref = str(data["ref"])
    personal = [
        Item(label=t(name), value=str(data[key])) for key, name in PERSONAL_LABELS if data.get(key)
    ]
    fields = [
        Item(label=t("Student reference"), value=str(data["student_ref"])),
        Item(label=t("School"), value=_school(ctx, str(data["school_id"]))),
        Item(label=t("State"), value=label(t, str(data["state"]))),
        Item(label=t("Consent"), value=label(t, str(data["consent"]))),
        *personal,
        Item(label=t("Audit trail"), value=str(len(data["audit_trail"]))),
        Item(label=t("Messages"), value=str(len(data["messages"]))),
    ]
    erased = data.get("personal_data_erased_at")
    text = t(
        "Everything stored about case {ref} is in the attached file (JSON). In short:",
        ref=case_ref,
    )
    if erased:
        text += " " + t("Its personal details were erased.")
    return [
        Reply(
            title=t("Export of case {ref}", ref=case_ref),
            text=text,
            fields=fields,
            file=json.dumps(data, indent=2, ensure_ascii=False).encode(),
            file_name=f"vangnet-{case_ref}.json",
            file_case=case_ref,
            personal=True,
        )
    ]


def _school(ctx: Ctx, school_id: str) -> str:
    school = queries.school_by_id(ctx.session, school_id=school_id)
    return school.name if school else school_id


def erase(ctx: Ctx, args: str) -> list[Reply]:
    ref, _, answer = args.partition(" ")
    case = privacy.find_case(ctx, ref)
    t = ctx.t
    answer = answer.strip().casefold()
    if answer == YES:
        privacy.erase_case(ctx, case.ref)
        return [Reply(text=t("The personal data of case {ref} is erased.", ref=case.ref))]
    if answer == NO:
        return [Reply(text=t("Nothing erased."))]
    return [
        Reply(
            text=t(
                "Erase the personal data of case {ref} ({student})? Name, contact details and "
                "notes are removed, also from messages sent; the figures and the audit trail "
                "stay. This cannot be undone.",
                ref=case.ref,
                student=case.student_ref,
            ),
            buttons=[
                Button(
                    label=t("Erase"), action=f"cmd:admin erase {case.ref} {YES}", style="danger"
                ),
                Button(label=t("Cancel"), action=f"cmd:admin erase {case.ref} {NO}"),
            ],
        )
    ]


def trail(ctx: Ctx, args: str) -> list[Reply]:
    ref, _, rest = args.partition(" ")
    case = privacy.find_case(ctx, ref)
    t = ctx.t
    try:
        page = max(1, int(rest.strip() or "1"))
    except ValueError:
        raise Refused(t("Give a page number, for example 2.")) from None
    events = list(audit.trail(ctx.session, case_ref=case.ref))
    pages = max(1, (len(events) + PAGE_SIZE - 1) // PAGE_SIZE)
    if page > pages:
        raise Refused(t.tn("There is only {n} page.", "There are only {n} pages.", pages))
    shown = events[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    names: dict[str, str] = {}
    lines = [
        " · ".join(
            (
                format_datetime(e.at, "d MMM yyyy HH:mm", tzinfo=ctx.region.tz, locale=t.language),
                _who(ctx, e.actor_id, names),
                t(AUDIT_LABELS[e.action]) if e.action in AUDIT_LABELS else e.action,
                e.transport,
            )
        )
        for e in shown
    ]
    buttons = []
    if page < pages:
        buttons.append(Button(label=t("More"), action=f"cmd:admin audit {case.ref} {page + 1}"))
    return [
        Reply(
            title=t("Audit trail of case {ref}", ref=case.ref),
            text=t("Page {page} of {pages}", page=page, pages=pages) if pages > 1 else "",
            lines=lines or [t("Nothing here.")],
            buttons=buttons,
            personal=True,
        )
    ]


def _who(ctx: Ctx, actor_id: str, names: dict[str, Any]) -> str:
    if actor_id not in names:
        if actor_id == SYSTEM_ID:
            names[actor_id] = system_person().name
        else:
            person = queries.person_by_id(ctx.session, person_id=actor_id)
            names[actor_id] = f"{person.name} ({actor_id})" if person else actor_id
    return str(names[actor_id])
