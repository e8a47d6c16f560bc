"""The domain's words: states, programmes, roles, destinations, consent, and their labels."""

from __future__ import annotations

from enum import StrEnum

from bot.core.i18n import N_, Translator


class CaseState(StrEnum):
    forecast = "forecast"
    due = "due"
    claimed = "claimed"
    placed = "placed"
    closed = "closed"
    withdrawn = "withdrawn"
    lost = "lost"


OPEN_STATES: frozenset[CaseState] = frozenset(
    {CaseState.forecast, CaseState.due, CaseState.claimed, CaseState.placed}
)


class Programme(StrEnum):
    """The kind of school: Praktijkonderwijs, Voortgezet Speciaal Onderwijs or MBO Entree."""

    pro = "pro"
    vso = "vso"
    entree = "entree"


class Role(StrEnum):
    """What a person does in the network (a person may hold several roles)."""

    coordinator = "coordinator"
    broker = "broker"
    school_contact = "school_contact"
    doorstroompunt = "doorstroompunt"
    # someone at a Participatiescan's table who is not in the case directory (an employer,
    # care, UWV): votes and owns actions, has no case scope and uses no case command
    scan_guest = "scan_guest"


class VsoProfile(StrEnum):
    work = "work"
    day_activities = "day_activities"
    further_education = "further_education"


class DestinationWish(StrEnum):
    further_education = "further_education"
    work = "work"
    sheltered_work = "sheltered_work"
    day_activities = "day_activities"
    unknown = "unknown"


class Destination(StrEnum):
    work = "work"
    work_with_support = "work_with_support"
    sheltered_work = "sheltered_work"
    further_education = "further_education"
    other_school = "other_school"
    day_activities = "day_activities"
    training_route = "training_route"
    moved_away = "moved_away"
    none = "none"


# Destinations that count as "a structural place" in the digest.
STRUCTURAL_DESTINATIONS: frozenset[Destination] = frozenset(
    {
        Destination.work,
        Destination.work_with_support,
        Destination.sheltered_work,
        Destination.further_education,
        Destination.other_school,
        Destination.day_activities,
        Destination.training_route,
    }
)


class Consent(StrEnum):
    given = "given"
    refused = "refused"
    not_asked = "not_asked"


LABELS: dict[str, str] = {
    # states
    "forecast": N_("forecast"),
    "due": N_("due"),
    "claimed": N_("claimed"),
    "placed": N_("placed"),
    "closed": N_("closed"),
    "withdrawn": N_("withdrawn"),
    "lost": N_("lost"),
    # programmes
    "pro": N_("Praktijkonderwijs"),
    "vso": N_("VSO"),
    "entree": N_("MBO Entree"),
    # VSO profiles, wishes and destinations
    "work": N_("work"),
    "work_with_support": N_("work with support"),
    "sheltered_work": N_("sheltered work"),
    "further_education": N_("further education"),
    "other_school": N_("other school"),
    "day_activities": N_("day activities"),
    "training_route": N_("training route"),
    "moved_away": N_("moved away"),
    "none": N_("no work and no school"),
    "unknown": N_("unknown"),
    # consent
    "given": N_("given"),
    "refused": N_("refused"),
    "not_asked": N_("not asked"),
    # reasons for a withdrawal
    "stays_at_school": N_("stays at school"),
    "mistake": N_("registered by mistake"),
    # the reason a case handed over outside the region is closed for this region
    "other_region": N_("handed over to another region"),
    # answers
    "yes": N_("yes"),
    "no": N_("no"),
    # roles
    "coordinator": N_("coordinator"),
    "broker": N_("broker"),
    "school_contact": N_("school contact"),
    "doorstroompunt": N_("RMC doorstroompunt"),
    "scan_guest": N_("guest of the scan"),
    # languages
    "nl": N_("Dutch"),
    "en": N_("English"),
}


def label(t: Translator, value: str | None) -> str:
    if value is None:
        return "-"
    return t(LABELS[value]) if value in LABELS else value


def role_labels(t: Translator, roles: list[str]) -> str:
    return ", ".join(label(t, r) for r in roles)
