"""The directory: the region's municipalities, schools and people, and who is who.

Which wins, the region file or the database: the region file SEEDS a new installation (an
empty directory) at start; after that the database is the truth, changed with `/admin`, and
a restart changes nothing in it. When the configured region file differs from the database,
the start says so in the log (counts only, no names) and how to apply it on purpose:
`vangnet region apply FILE` (with `--dry-run` first, which only shows what would change).
Applying writes the file into the tables; people who are not in it are kept (for the audit
trail) but made inactive. Every change made by applying is audited, by id.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bot.core.cases.audit import record
from bot.core.teams_identity import TeamsIdentity, parse_teams_identity
from bot.core.vocab import Role
from bot.region import Region
from bot.store.models import Invite, Municipality, Person, School


@dataclass
class Changes:
    """What applying a region file would change in the directory, by id (never names)."""

    added: list[tuple[str, str]] = field(default_factory=list)  # (kind, id)
    changed: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (kind, id, fields)
    deactivated: list[tuple[str, str]] = field(default_factory=list)  # (kind, id)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.deactivated)


def is_empty(session: Session) -> bool:
    """A new installation: nothing in the directory yet."""
    return session.exec(select(Municipality)).first() is None


def seed_or_compare(session: Session, region: Region) -> Changes | None:
    """At start: an empty directory is seeded from the region file (None); otherwise nothing
    is written, and what applying the file would change is returned (empty when they agree)."""
    if is_empty(session):
        sync_region(session, region)
        return None
    return region_changes(session, region)


def region_changes(session: Session, region: Region) -> Changes:
    """What `sync_region` would change, without changing anything."""
    out = Changes()
    # each table read once (a national directory is hundreds of rows, asked at every start)
    municipalities = {m.code: m for m in session.exec(select(Municipality)).all()}
    schools = {s.id: s for s in session.exec(select(School)).all()}
    people = {p.id: p for p in session.exec(select(Person).order_by(Person.id)).all()}
    for m in region.municipalities:
        row = municipalities.get(m.code)
        if row is None:
            out.added.append(("municipality", m.code))
        elif row.name != m.name:
            out.changed.append(("municipality", m.code, ["name"]))
    for s in region.schools:
        school = schools.get(s.id)
        want = {
            "name": s.name,
            "type": str(s.type),
            "municipality_code": _code(region, s.municipality),
        }
        if school is None:
            out.added.append(("school", s.id))
        elif differ := [k for k, v in want.items() if getattr(school, k) != v]:
            out.changed.append(("school", s.id, differ))
    in_file = {p.id for p in region.people}
    for existing in people.values():
        if existing.id not in in_file and existing.active and not is_guest(existing):
            out.deactivated.append(("person", existing.id))
    for p in region.people:
        person = people.get(p.id)
        if person is None:
            out.added.append(("person", p.id))
            continue
        want_p: dict[str, object] = {
            "name": p.name,
            "roles": [str(r) for r in p.roles],
            "municipality_code": _code(region, p.municipality) if p.municipality else None,
            "school_id": p.school,
            "slack_id": p.slack,
            "language": p.language,
            "active": True,
        }
        if p.telegram is not None or not _bound_by_invite(session, person):
            want_p["telegram_id"] = p.telegram
        want_p.update(_teams_columns(session, person, p.teams))
        differ = [k for k, v in want_p.items() if getattr(person, k) != v]
        if differ:
            out.changed.append(("person", p.id, differ))
    return out


def apply_region(session: Session, region: Region, *, actor_id: str, transport: str) -> Changes:
    """`vangnet region apply`: the region file written into the directory, each change
    audited (by id and the names of the fields that changed, never their values)."""
    changes = region_changes(session, region)
    sync_region(session, region)
    for kind, ident in changes.added:
        record(session, actor_id=actor_id, transport=transport, action=f"{kind}_added", id=ident)
    for kind, ident, fields in changes.changed:
        record(
            session,
            actor_id=actor_id,
            transport=transport,
            action=f"{kind}_changed",
            id=ident,
            fields=fields,
        )
    for kind, ident in changes.deactivated:
        record(
            session, actor_id=actor_id, transport=transport, action=f"{kind}_deactivated", id=ident
        )
    return changes


def sync_region(session: Session, region: Region) -> None:
    """Write the region file into the directory tables (seeding, or `region apply`)."""
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
        if existing.id not in in_file and not is_guest(existing):
            existing.active = False
            existing.slack_id = None
            existing.telegram_id = None
            existing.teams_id = None
            existing.teams_upn = None
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
        for key, value in _teams_columns(session, person, p.teams).items():
            setattr(person, key, value)
        person.language = p.language
        person.active = True
        session.add(person)
    session.flush()


def is_guest(person: Person) -> bool:
    """A guest of a Participatiescan: not the region file's, so applying it leaves them be."""
    return person.roles == [Role.scan_guest.value]


def _bound_by_invite(session: Session, person: Person, *, via: str = "telegram") -> bool:
    """Whether the person's Telegram (or Teams) account was bound with an invite (kept when
    the region file names none)."""
    if via == "teams":
        if person.teams_id is None:
            return False
        used = select(Invite).where(
            Invite.person_id == person.id, Invite.used_by_teams_id == person.teams_id
        )
    else:
        if person.telegram_id is None:
            return False
        used = select(Invite).where(
            Invite.person_id == person.id, Invite.used_by_telegram_id == person.telegram_id
        )
    return session.exec(used).first() is not None


def teams_columns(person: Person, identity: TeamsIdentity | None) -> dict[str, str | None]:
    """`Person.teams_id` and `teams_upn` for a Teams identity given in the region file or
    the admin form. A UPN the person has already been resolved from keeps its object id (it
    is resolved once); any other UPN starts unresolved."""
    if identity is None:
        return {"teams_id": None, "teams_upn": None}
    if identity.object_id is not None:
        return {"teams_id": identity.object_id, "teams_upn": None}
    resolved = person.teams_id if person.teams_upn == identity.upn else None
    return {"teams_id": resolved, "teams_upn": identity.upn}


def _teams_columns(session: Session, person: Person, text: str | None) -> dict[str, str | None]:
    """The Teams columns the region file asks for; a Teams account bound with an invite is
    kept when the file names none (as a Telegram account is)."""
    if text is None and _bound_by_invite(session, person, via="teams"):
        return {}
    return teams_columns(person, parse_teams_identity(text) if text is not None else None)


def _code(region: Region, municipality: str) -> str:
    entry = region.find_municipality(municipality)
    if entry is None:  # the region file was validated, so this is a bug
        raise ValueError(f"unknown municipality {municipality!r}")
    return entry.code


def free_person_id(session: Session, base: str, separator: str = "") -> str:
    """`base`, or `base` with the first free number after it ("jan2", "guest-karin-2"): a new
    person's id, never one the directory has (a deactivated person keeps theirs)."""
    candidate, n = base, 1
    while session.get(Person, candidate) is not None:
        n += 1
        candidate = f"{base}{separator}{n}"
    return candidate


def find_person(session: Session, query: str, *, active: bool = True) -> list[Person]:
    """People matching an id or a name (or part of one). Exact matches win. With
    `active=False`, the deactivated ones, all of them for an empty query."""
    q = query.strip().lstrip("@").casefold()
    if not q and active:
        return []
    people = session.exec(
        select(Person).where(col(Person.active) == active).order_by(Person.name)
    ).all()
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


def person_by_teams(session: Session, object_id: str) -> Person | None:
    """The active person with this Entra object id (an activity's `from.aadObjectId`)."""
    return session.exec(
        select(Person).where(Person.teams_id == object_id.strip().casefold(), col(Person.active))
    ).first()


def bind_teams_upn(session: Session, *, upn: str, object_id: str) -> Person | None:
    """Resolve a UPN once: the active person known by `upn` whose object id is not known yet
    gets `object_id` (the Teams transport calls this when it learns both, from a person who
    writes to the bot or for whom the app is installed). Audited. None when nobody waits
    for this UPN, or the object id belongs to someone else already."""
    upn, object_id = upn.strip().casefold(), object_id.strip().casefold()
    person = session.exec(
        select(Person).where(
            Person.teams_upn == upn, col(Person.teams_id).is_(None), col(Person.active)
        )
    ).first()
    if person is None or parse_teams_identity(object_id) != TeamsIdentity(object_id=object_id):
        return None
    if session.exec(select(Person).where(Person.teams_id == object_id)).first() is not None:
        return None
    person.teams_id = object_id
    session.add(person)
    session.flush()
    record(session, actor_id=person.id, transport="teams", action="teams_resolved", id=person.id)
    return person


def match_municipality(
    session: Session, text: str, *, among: Sequence[Municipality] | None = None
) -> tuple[Municipality | None, list[str]]:
    """The municipality named by `text` (name or CBS code), or the closest names to suggest;
    `among`: the region's municipalities, when the caller read them already."""
    q = text.strip().casefold()
    all_m = session.exec(select(Municipality)).all() if among is None else among
    for m in all_m:
        if q in (m.code.casefold(), m.name.casefold()):
            return m, []
    names = {m.name.casefold(): m.name for m in all_m}
    close = difflib.get_close_matches(q, list(names), n=3, cutoff=0.6)
    return None, [names[c] for c in close]
