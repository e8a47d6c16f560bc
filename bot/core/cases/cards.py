"""Case cards and case lists as replies, seen through one viewer's eyes.

Personal details (name, contact details, notes) appear only when the young person consented,
the viewer has the case in scope and the reply goes somewhere private; every time they are
shown an audit event records it.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from sqlmodel import Session

from bot.core import audit, clock
from bot.core.cases.permissions import may_claim, may_transfer
from bot.core.context import SYSTEM_ID, system_person
from bot.core.i18n import N_, Translator
from bot.core.replies import Button, Item, Reply
from bot.core.vocab import CaseState, Consent, Role, label
from bot.store import queries
from bot.store.models import Case, Person

CLAIM = N_("Claim")
TRANSFER = N_("Transfer")
OUTSIDE = N_("Hand over outside the region")
DETAILS = N_("Details")
PLACED = N_("Placement")

# What each audit action means, as the history on a case card shows it. An action not listed
# here (a new one) is shown by its code.
AUDIT_LABELS: dict[str, str] = {
    "register": N_("registered"),
    "update": N_("details updated by the school"),
    "correct": N_("details corrected"),
    "make_due": N_("ready to be claimed"),
    "claim": N_("claimed"),
    "transfer": N_("transferred"),
    "place": N_("placement recorded"),
    "followup_changed": N_("follow-up: new place recorded"),
    "followup_dropped": N_("follow-up: dropped out, case reopened"),
    "followup_ok_last": N_("follow-up: still in place, case closed"),
    "withdraw": N_("withdrawn"),
    "close_no_support": N_("closed: no support needed"),
    "lose_contact": N_("marked lost"),
    "hand_over_outside": N_("handed over outside the region"),
    "erase_personal": N_("personal details erased"),
    "export": N_("data exported for a privacy request"),
    "view_personal": N_("saw the personal details"),
    "sent_personal": N_("was sent the personal details"),
}


def month(t: Translator, d: date) -> str:
    return _month(t.language, d.year, d.month)


@lru_cache(maxsize=1024)
def _month(language: str, year: int, number: int) -> str:
    """'juni 2027': Babel's formatting costs more than anything else on a list line, and a
    list has the same few months over and over."""
    return format_date(date(year, number, 1), "MMMM yyyy", locale=language)


def shows_personal(case: Case, *, private: bool) -> bool:
    return private and case.consent == Consent.given and case.personal_data_erased_at is None


def case_buttons(
    t: Translator, case: Case, viewer: Person, *, outside: bool = False
) -> list[Button]:
    """The buttons of a case card; `outside`: the case lives outside the region, and is to
    be handed over to that region."""
    buttons: list[Button] = []
    if case.state == CaseState.due and may_claim(viewer, case):
        buttons.append(Button(label=t(CLAIM), action=f"claim:{case.ref}", style="primary"))
    if case.state == CaseState.claimed and case.owner_id == viewer.id:
        buttons.append(Button(label=t(PLACED), action=f"placed:{case.ref}", style="primary"))
    if case.state in (CaseState.due, CaseState.claimed) and may_transfer(viewer, case):
        if outside:
            buttons.append(Button(label=t(OUTSIDE), action=f"outside:{case.ref}", style="primary"))
        buttons.append(Button(label=t(TRANSFER), action=f"transfer:{case.ref}"))
    elif case.state in (CaseState.placed, CaseState.lost) and may_transfer(viewer, case):
        buttons.append(Button(label=t(TRANSFER), action=f"transfer:{case.ref}"))
    return buttons


def case_card(
    session: Session,
    case: Case,
    *,
    viewer: Person,
    t: Translator,
    private: bool,
    transport: str,
    details: bool = False,
    audit_action: str = "view_personal",
    known: queries.Remembered | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Reply:
    """The card a person sees for one case. The caller has checked the scope. When many cards
    are made at once: `known`, the directory's answers remembered; `events`, where the audit
    event of showing personal details is added (as a row, to be written with the others)
    instead of to the session."""
    look = known or queries.Lookups(session)
    if known is not None and not details:  # the same for every viewer in a language
        key = (case.ref, case.version, case.updated_at, t.language, private)
        fields, text = known.once(("card", key), lambda: _fields(look, case, t, private, False))
    else:
        fields, text = _fields(look, case, t, private, details)
    if shows_personal(case, private=private):
        shown = {
            "actor_id": viewer.id,
            "transport": transport,
            "action": audit_action,
            "case_ref": case.ref,
        }
        if events is not None:
            events.append(audit.row(**shown))
        else:
            audit.record(session, **shown)

    lines: list[str] = []
    if details:
        lines = [t("History:")] + [
            " · ".join(
                (
                    format_date(e.at, locale=t.language),
                    t(AUDIT_LABELS[e.action]) if e.action in AUDIT_LABELS else e.action,
                    _actor_name(session, e.actor_id),
                )
            )
            for e in audit.trail(session, case_ref=case.ref)
            if e.action not in ("view_personal", "sent_personal")
        ]
    outside = not look.in_region(case.responsible_municipality_code)
    buttons = case_buttons(t, case, viewer, outside=outside)
    if not details:
        buttons.append(Button(label=t(DETAILS), action=f"details:{case.ref}"))
    return Reply(
        title=t("Case {ref}", ref=case.ref),
        text=text,
        fields=list(fields),
        lines=lines,
        buttons=buttons,
        personal=True,
    )


def _fields(
    look: queries.Lookups, case: Case, t: Translator, private: bool, details: bool
) -> tuple[list[Item], str]:
    """What a case card says, whoever sees it (in `t`'s language): its fields and its text."""
    school = look.school(case.school_id)
    school_name = school.name if school else case.school_id
    fields = [
        Item(label=t("School"), value=school_name),
        Item(label=t("Student reference"), value=case.student_ref),
        Item(label=t("Programme"), value=_programme(t, case)),
        Item(
            label=t("Home municipality"),
            value=look.municipality_name(case.home_municipality_code),
        ),
    ]
    if case.birth_year:
        age = clock.now().year - case.birth_year
        value = t("{age} this year", age=age)
        if age < 18:
            value += " · " + t("compulsory education applies")
        fields.append(Item(label=t("Age"), value=value))
    fields += [
        Item(label=t("Expected exit"), value=month(t, case.expected_exit)),
        Item(label=t("Destination wish"), value=label(t, case.destination_wish)),
        Item(label=t("State"), value=label(t, case.state)),
    ]
    if case.urgent:
        fields.append(Item(label=t("Urgency"), value=t("urgent: early leaver")))
    if case.responsible_municipality_code != case.home_municipality_code:
        fields.append(
            Item(
                label=t("Handled by"),
                value=look.municipality_name(case.responsible_municipality_code),
            )
        )
    if case.owner_id:
        owner = look.person(case.owner_id)
        fields.append(Item(label=t("Owner"), value=owner.name if owner else case.owner_id))
    if case.destination:
        place = label(t, case.destination)
        if case.placement_org:
            place += f" · {case.placement_org}"
        if case.placement_start:
            place += " · " + t(
                "from {date}", date=format_date(case.placement_start, locale=t.language)
            )
        fields.append(Item(label=t("Placement"), value=place))
    if case.closed_reason:
        fields.append(Item(label=t("Reason"), value=label(t, case.closed_reason)))
    if case.handed_over_to:
        fields.append(Item(label=t("Handed over to"), value=case.handed_over_to))
    contact = _school_contact(case, look)
    if contact:
        fields.append(Item(label=t("School contact"), value=contact))
    fields.append(Item(label=t("Consent"), value=label(t, case.consent)))

    personal = shows_personal(case, private=private)
    text = ""
    if personal:
        if case.name:
            fields.insert(0, Item(label=t("Name"), value=case.name))
        if details and case.contact:
            fields.append(Item(label=t("Contact details"), value=case.contact))
        if case.notes:
            fields.append(Item(label=t("What the school knows"), value=case.notes))
    elif case.consent != Consent.given:
        text = t(
            "No consent to share personal details: please contact the school contact named "
            "on this card."
        )
    return fields, text


def _actor_name(session: Session, actor_id: str) -> str:
    """Who did it, by name: the bot itself for scheduled work; the id if they left the directory."""
    if actor_id == SYSTEM_ID:
        return system_person().name
    person = queries.person_by_id(session, person_id=actor_id)
    return person.name if person else actor_id


def _programme(t: Translator, case: Case) -> str:
    text = label(t, case.programme)
    if case.vso_profile:
        text += f" ({label(t, case.vso_profile)})"
    return text


def _school_contact(case: Case, look: queries.Lookups) -> str | None:
    person = look.person(case.registered_by)
    if person and person.active and Role.school_contact in person.roles:
        return person.name
    contacts = look.school_contacts_of(case.school_id)
    return ", ".join(p.name for p in contacts) or None


def case_line(session: Session, t: Translator, case: Case) -> str:
    """One line of a list: reference, the school's reference, school, state, owner."""
    parts = [case.ref, case.student_ref, label(t, case.state), month(t, case.expected_exit)]
    if case.urgent and case.state in (CaseState.forecast, CaseState.due, CaseState.claimed):
        parts.append(t("urgent"))
    if case.owner_id:
        owner = queries.person_by_id(session, person_id=case.owner_id)
        parts.append(t("owner: {name}", name=owner.name if owner else case.owner_id))
    return " · ".join(parts)
