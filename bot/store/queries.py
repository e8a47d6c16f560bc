"""Queries used by more than one part of the core. Keyword-only, each taking a session."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.region import nl_municipalities
from bot.store.models import Case, Municipality, Person, School
from bot.vocab import Role

T = TypeVar("T")


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


class Lookups:
    """The directory questions a case card asks, each answered by a query (`Remembered`
    answers each once)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def person(self, person_id: str) -> Person | None:
        return person_by_id(self.session, person_id=person_id)

    def school(self, school_id: str) -> School | None:
        return school_by_id(self.session, school_id=school_id)

    def municipality_name(self, code: str) -> str:
        return municipality_name(self.session, code=code)

    def in_region(self, code: str) -> bool:
        return in_region(self.session, code=code)

    def brokers_of(self, code: str) -> Sequence[Person]:
        return brokers_of(self.session, municipality_code=code)

    def school_contacts_of(self, school_id: str) -> Sequence[Person]:
        return school_contacts_of(self.session, school_id=school_id)


class Remembered(Lookups):
    """The directory look-ups of many case cards, each answered once: for work that writes
    the messages of many cases in one transaction (a batch of tasks, a school's file), which
    would otherwise ask the same few questions for every case. The directory is read once,
    on the first question (or given: `people`, everyone by name); it does not change while
    such work runs."""

    def __init__(self, session: Session, people: Sequence[Person] | None = None) -> None:
        super().__init__(session)
        self._given = people
        self._brokers: dict[str, list[Person]] | None = None
        self._contacts: dict[str, list[Person]] = {}
        self._answers: dict[tuple[str, str], Any] = {}
        self._made: dict[Hashable, Any] = {}

    def _read(self) -> dict[str, list[Person]]:
        if self._brokers is None:
            self._brokers = {}
            people = active_people(self.session) if self._given is None else self._given
            for p in people:  # by name, as `brokers_of` orders them
                if not p.active:
                    continue
                if Role.broker in p.roles and p.municipality_code is not None:
                    self._brokers.setdefault(p.municipality_code, []).append(p)
                if Role.school_contact in p.roles and p.school_id is not None:
                    self._contacts.setdefault(p.school_id, []).append(p)
        return self._brokers

    def brokers_of(self, code: str) -> list[Person]:
        return self._read().get(code, [])

    def school_contacts_of(self, school_id: str) -> list[Person]:
        self._read()
        return self._contacts.get(school_id, [])

    def once(self, key: Hashable, make: Callable[[], T]) -> T:
        """`make()`, remembered under `key` (a card's fields, the same for every viewer)."""
        if key not in self._made:
            self._made[key] = make()
        return cast(T, self._made[key])

    def _once(self, question: str, key: str, ask: Callable[[str], Any]) -> Any:
        if (question, key) not in self._answers:  # who is not there too (the system)
            self._answers[question, key] = ask(key)
        return self._answers[question, key]

    def person(self, person_id: str) -> Person | None:
        return cast(Person | None, self._once("person", person_id, super().person))

    def school(self, school_id: str) -> School | None:
        return cast(School | None, self._once("school", school_id, super().school))

    def municipality_name(self, code: str) -> str:
        return cast(str, self._once("name", code, super().municipality_name))

    def in_region(self, code: str) -> bool:
        return cast(bool, self._once("in", code, super().in_region))
