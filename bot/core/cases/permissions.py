"""Who may see and do what (product.md section 8). One rule, used by lists and single cases.

The scope is written once, as an SQL condition, so that a list and a single case can never
disagree about what a person may see.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import Session, col, func, select

from bot.core.vocab import CaseState, Destination, Role
from bot.store.models import Case, Person, School


def scope_condition(person: Person) -> ColumnElement[bool]:
    """The cases `person` may see, as a WHERE condition on `cases`."""
    roles = set(person.roles)
    if Role.coordinator in roles:
        return true()
    parts: list[ColumnElement[bool]] = []
    if Role.school_contact in roles and person.school_id:
        parts.append(col(Case.school_id) == person.school_id)
    if Role.broker in roles:
        parts.append(col(Case.owner_id) == person.id)
        parts.append(col(Case.assigned_person_id) == person.id)
        if person.municipality_code:
            m = person.municipality_code
            schools_here = select(School.id).where(School.municipality_code == m)
            parts.append(col(Case.home_municipality_code) == m)
            parts.append(col(Case.responsible_municipality_code) == m)
            parts.append(col(Case.school_id).in_(schools_here))
    if Role.doorstroompunt in roles:
        reported = or_(col(Case.state) == CaseState.lost, col(Case.destination) == Destination.none)
        if person.municipality_code:
            reported = reported & (col(Case.home_municipality_code) == person.municipality_code)
        parts.append(reported)
    return or_(*parts) if parts else false()


def in_scope(session: Session, person: Person, case: Case) -> bool:
    stmt = select(func.count()).select_from(Case).where(Case.id == case.id, scope_condition(person))
    return session.exec(stmt).one() > 0


def may_claim(person: Person, case: Case) -> bool:
    """Brokers of the responsible municipality, or the person the case was transferred to."""
    if Role.broker not in person.roles:
        return False
    if case.assigned_person_id is not None:
        return case.assigned_person_id == person.id
    return case.responsible_municipality_code == person.municipality_code


def may_transfer(person: Person, case: Case) -> bool:
    """An owned case: its owner or the coordinator. An unclaimed one: whoever may claim it."""
    if Role.coordinator in person.roles:
        return True
    if case.owner_id is not None:
        return case.owner_id == person.id
    return may_claim(person, case)


def may_withdraw(person: Person, case: Case) -> bool:
    if Role.coordinator in person.roles:
        return True
    return Role.school_contact in person.roles and person.school_id == case.school_id


def may_act_as_owner(person: Person, case: Case) -> bool:
    """Closing, marking lost and recording a placement: the owner, or the coordinator."""
    return case.owner_id == person.id or Role.coordinator in person.roles
