"""The directory: the region's municipalities, schools and people, and who is who.

The region file is the source at start: it is written into the tables, and people who have
left the file are kept (for the audit trail) but made inactive.
"""

from __future__ import annotations

import difflib

from sqlmodel import Session, col, select

from bot.region import Region
from bot.store.models import Invite, Municipality, Person, School


def sync_region(session: Session, region: Region) -> None:
    """Write the region file into the directory tables."""
    for m in region.municipalities:
        row = session.get(Municipality, m.code) or Municipality(code=m.code, name=m.name)
        row.name = m.name
        session.add(row)
    session.flush()
    for s in region.schools:
        code = _code(region, s.municipality)
        school = session.get(School, s.id) or School(
            id=s.id, name=s.name, type=str(s.type), municipality_code=code
        )
        school.name, school.type, school.municipality_code = s.name, str(s.type), code
        session.add(school)
    in_file = {p.id for p in region.people}
    for existing in session.exec(select(Person)).all():
        if existing.id not in in_file:
            existing.active = False
            existing.slack_id = None
            existing.telegram_id = None
            session.add(existing)
    session.flush()
    for p in region.people:
        person = session.get(Person, p.id) or Person(id=p.id, name=p.name)
        person.name = p.name
        person.roles = [str(r) for r in p.roles]
        person.municipality_code = _code(region, p.municipality) if p.municipality else None
        person.school_id = p.school
        person.slack_id = p.slack
        if p.telegram is not None or not _bound_by_invite(session, person):
            person.telegram_id = p.telegram
        person.language = p.language
        person.active = True
        session.add(person)
    session.flush()


def _bound_by_invite(session: Session, person: Person) -> bool:
    """Whether the person's Telegram account was bound with an invite (kept when the region
    file names none)."""
    if person.telegram_id is None:
        return False
    used = select(Invite).where(
        Invite.person_id == person.id, Invite.used_by_telegram_id == person.telegram_id
    )
    return session.exec(used).first() is not None


def _code(region: Region, municipality: str) -> str:
    entry = region.find_municipality(municipality)
    if entry is None:  # the region file was validated, so this is a bug
        raise ValueError(f"unknown municipality {municipality!r}")
    return entry.code


def find_person(session: Session, query: str) -> list[Person]:
    """People matching an id or a name (or part of one). Exact matches win."""
    q = query.strip().lstrip("@").casefold()
    if not q:
        return []
    people = session.exec(select(Person).where(col(Person.active)).order_by(Person.name)).all()
    exact = [p for p in people if p.id.casefold() == q or p.name.casefold() == q]
    if exact:
        return exact
    return [p for p in people if q in p.name.casefold() or q in p.id.casefold()]


def person_by_slack(session: Session, slack_id: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.slack_id == slack_id, col(Person.active))
    ).first()


def person_by_telegram(session: Session, telegram_id: int) -> Person | None:
    return session.exec(
        select(Person).where(Person.telegram_id == telegram_id, col(Person.active))
    ).first()


def match_municipality(session: Session, text: str) -> tuple[Municipality | None, list[str]]:
    """The municipality named by `text` (name or CBS code), or the closest names to suggest."""
    q = text.strip().casefold()
    all_m = session.exec(select(Municipality)).all()
    for m in all_m:
        if q in (m.code.casefold(), m.name.casefold()):
            return m, []
    names = {m.name.casefold(): m.name for m in all_m}
    close = difflib.get_close_matches(q, list(names), n=3, cutoff=0.6)
    return None, [names[c] for c in close]
