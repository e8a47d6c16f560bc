"""The domain's words and their labels. The words themselves (states, programmes, roles,
destinations, consent) are plain enums at the floor, in `bot.vocab`, where the store and the
region file use them too; they are importable from here as well."""

from __future__ import annotations

from bot.core.i18n import N_, Translator
from bot.vocab import (
    OPEN_STATES,
    STRUCTURAL_DESTINATIONS,
    CaseState,
    Consent,
    Destination,
    DestinationWish,
    Programme,
    Role,
    VsoProfile,
)

__all__ = [
    "LABELS",
    "OPEN_STATES",
    "STRUCTURAL_DESTINATIONS",
    "CaseState",
    "Consent",
    "Destination",
    "DestinationWish",
    "Programme",
    "Role",
    "VsoProfile",
    "label",
    "role_labels",
]

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
