"""Queries used by more than one part of the core. Keyword-only, each taking a session."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import nl_municipalities
from bot.core.vocab import Role
from bot.store.models import Case, Municipality, Person, School


def case_by_ref(session: Session, *, ref: str) -> Case | None:
    return session.exec(select(Case).where(Case.ref == ref)).first()


def ref_exists(session: Session, *, ref: str) -> bool:
    return session.exec(select(func.count()).where(Case.ref == ref)).one() > 0


def person_by_id(session: Session, *, person_id: str) -> Person | None:
    return session.get(Person, person_id)


def active_people(session: Session) -> Sequence[Person]:
    return session.exec(select(Person).where(col(Person.active)).order_by(Person.name)).all()


def brokers_of(session: Session, *, municipality_code: str) -> Sequence[Person]:
    people = session.exec(
        select(Person)
        .where(col(Person.active), Person.municipality_code == municipality_code)
        .order_by(Person.name)
    ).all()
    return [p for p in people if Role.broker in p.roles]


def people_with_role(session: Session, *, role: str) -> Sequence[Person]:
    return [p for p in active_people(session) if role in p.roles]


def school_contacts_of(session: Session, *, school_id: str) -> Sequence[Person]:
    people = session.exec(
        select(Person)
        .where(col(Person.active), Person.school_id == school_id)
        .order_by(Person.name)
    ).all()
    return [p for p in people if Role.school_contact in p.roles]


def municipalities(session: Session) -> Sequence[Municipality]:
    return session.exec(select(Municipality).order_by(Municipality.name)).all()


def municipality_name(session: Session, *, code: str) -> str:
    """The name of a municipality of the region, or of one elsewhere in the Netherlands."""
    m = session.get(Municipality, code)
    if m is not None:
        return m.name
    return nl_municipalities.name_of(code) or code


def in_region(session: Session, *, code: str) -> bool:
    """Whether municipality `code` is one of the region's (in the directory)."""
    return session.get(Municipality, code) is not None


def school_by_id(session: Session, *, school_id: str) -> School | None:
    return session.get(School, school_id)
