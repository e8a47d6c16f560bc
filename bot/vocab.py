"""The domain's words: states, programmes, roles, destinations, consent.

Plain enums at the floor, importable by everything: the store's queries and the region file
use them as the core does. Their labels (in the reader's language) are the core's:
`bot.core.vocab`.
"""

from __future__ import annotations

from enum import StrEnum


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
