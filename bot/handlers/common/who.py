"""Who is speaking: the person behind a platform id, and what the command table lets them do.

Every transport asks the same question for every event, so the answer is one small frozen
value. The lookups block on the database: async callers run them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.cases import unreachable
from bot.core.commands import COMMANDS, may_use
from bot.core.directory import person_by_slack, person_by_teams, person_by_telegram
from bot.core.i18n import Translator, translator
from bot.core.messaging import verdicts
from bot.handlers.common.reach import SLACK, TEAMS, TELEGRAM
from bot.store import queries
from bot.store.db import session_scope
from bot.store.models import Person

K = TypeVar("K")


@dataclass(frozen=True)
class Who:
    id: str
    name: str
    language: str
    roles: tuple[str, ...]
    school_id: str | None
    commands: frozenset[str]  # the commands of the table their roles allow
    # the directory's row as it was read to answer "who": the core works as this person
    # without reading them again (`Core.handle_text(actor=…)`); None: the core reads them
    person: Person | None = field(default=None, compare=False, repr=False)

    @property
    def t(self) -> Translator:
        return translator(self.language)

    @property
    def may_register(self) -> bool:
        """A school contact with a school: may register leavers (form, modal or CSV file)."""
        return "leaver" in self.commands and self.school_id is not None


def who_of(person: Person, default_language: str) -> Who:
    return Who(
        id=person.id,
        name=person.name,
        language=person.language or default_language,
        roles=tuple(person.roles),
        school_id=person.school_id,
        commands=frozenset(name for name in COMMANDS if may_use(person, name)),
        person=person,
    )


def who_by(
    engine: Engine,
    find: Callable[[Session, K], Person | None],
    platform_id: K,
    default_language: str,
    via: str | None = None,
) -> Who | None:
    """The active person `find` gives for `platform_id`, or None when nobody in the directory.
    Someone marked unreachable on `via` who writes there is reachable again: the mark goes
    and what was held for them is sent (`cases.unreachable`)."""
    with session_scope(engine, write=False) as session:
        person = find(session, platform_id)
        if person is None or not person.active:
            return None
        who = who_of(person, default_language)
        marked = via is not None and via in (person.unreachable or {})
    if marked:
        with session_scope(engine) as session:
            person = find(session, platform_id)
            if person is not None and verdicts.clear(person, via):
                session.add(person)
                unreachable.release(session, person)
        return replace(who, person=None)  # changed since: the core reads them afresh
    return who


def who_by_slack(engine: Engine, slack_id: str, default_language: str) -> Who | None:
    return who_by(engine, person_by_slack, slack_id, default_language, SLACK)


def who_by_telegram(engine: Engine, telegram_id: int, default_language: str) -> Who | None:
    return who_by(engine, person_by_telegram, telegram_id, default_language, TELEGRAM)


def who_by_teams(engine: Engine, object_id: str, default_language: str) -> Who | None:
    """The person with this Entra object id (a Teams activity's `from.aadObjectId`)."""
    return who_by(engine, person_by_teams, object_id, default_language, TEAMS)


def who_by_id(engine: Engine, person_id: str, default_language: str) -> Who | None:
    return who_by(engine, _by_id, person_id, default_language)


def _by_id(session: Session, person_id: str) -> Person | None:
    return queries.person_by_id(session, person_id=person_id)
