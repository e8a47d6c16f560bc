"""What people type after /leavers and /cases to narrow the list: a forgiving filter syntax.

Words in any order, Dutch or English, upper or lower case:

- a state (`due`, `te claimen`, `claimed`, `geclaimd` …) or `open` (every state still open);
- `overdue` / `te laat`: due and unclaimed past the escalation's working days;
- `mine` / `mijn`: the cases I own, or that were transferred to me or I registered;
- a municipality (its name or CBS code): where the case is handled;
- a school (its id, its name, or a word of its name that fits one school only);
- a number: the page.

`/leavers open Zwolle 2`, `/cases te laat`, `/leavers brug geclaimd`. A word that fits none
of these is refused with what is understood, and nothing else happens.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, true
from sqlmodel import col, select

from bot.core import clock
from bot.core.calendar import WORKDAY_START, at_local, working_days_before
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import LANGUAGES, N_, translator
from bot.core.vocab import LABELS, OPEN_STATES, CaseState
from bot.store import queries
from bot.store.models import Case, School

# shown in the usage of /leavers and /cases, in /help and when a word is not understood
FILTER_HELP = N_(
    "Narrow the list with words in any order: a state (due, claimed, …) or open; overdue; "
    "mine; a municipality; a school; a page number. For example: {command} open Zwolle"
)

OPEN = "open"
OVERDUE = "overdue"
MINE = "mine"
# keywords besides the states' own labels; the canonical word (what buttons carry) first
_KEYWORDS: dict[str, tuple[str, ...]] = {
    OPEN: ("open", "lopend", "lopende", "actief", "active"),
    OVERDUE: ("overdue", "te laat", "telaat", "late", "achterstallig", "verlopen"),
    MINE: ("mine", "my", "mijn", "eigen", "me", "ik"),
}


def fold(text: str) -> str:
    """Case and accents ignored: 'Súdwest-Fryslân' and 'sudwest-fryslan' are the same."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def _phrases() -> dict[str, str]:
    """Every word or phrase a filter keyword or state is known by → its canonical word."""
    out: dict[str, str] = {}
    for word, spoken in _KEYWORDS.items():
        for phrase in spoken:
            out[fold(phrase)] = word
    for state in CaseState:
        out[state.value] = state.value
        for language in LANGUAGES:
            out[fold(translator(language)(LABELS[state.value]))] = state.value
    return out


PHRASES = _phrases()
LONGEST = max(len(p.split()) for p in PHRASES)


@dataclass(frozen=True)
class Filter:
    states: frozenset[str] = frozenset()
    municipality: str | None = None  # CBS code
    school: str | None = None  # school id
    overdue: bool = False
    mine: bool = False
    page: int = 1
    words: tuple[str, ...] = field(default=(), compare=False)

    @property
    def narrowed(self) -> bool:
        return bool(self.states or self.municipality or self.school or self.overdue or self.mine)

    def canonical(self) -> str:
        """The filter as words the parser reads back (what a page button carries): short,
        so that it fits a Telegram button."""
        parts = sorted(self.states)
        parts += [self.municipality or "", self.school or ""]
        parts += [OVERDUE] if self.overdue else []
        parts += [MINE] if self.mine else []
        return " ".join(p for p in parts if p)

    def condition(self, ctx: Ctx) -> ColumnElement[bool]:
        """The filter as a WHERE condition on `cases` (the scope is added by the caller)."""
        parts: list[ColumnElement[bool]] = []
        if self.states:
            parts.append(col(Case.state).in_(sorted(self.states)))
        if self.municipality:
            parts.append(col(Case.responsible_municipality_code) == self.municipality)
        if self.school:
            parts.append(col(Case.school_id) == self.school)
        if self.overdue:
            parts.append(
                (col(Case.state) == CaseState.due) & (col(Case.due_at) <= overdue_line(ctx))
            )
        if self.mine:
            me = ctx.actor.id
            parts.append(
                (col(Case.owner_id) == me)
                | (col(Case.assigned_person_id) == me)
                | (col(Case.registered_by) == me)
            )
        return and_(true(), *parts)


def overdue_line(ctx: Ctx) -> datetime:
    """A due case that became due at or before this moment has waited past the escalation."""
    today = clock.today(ctx.region.tz)
    days = ctx.region.schedule.escalate_after_workdays
    return at_local(working_days_before(today, days), WORKDAY_START, ctx.region.tz)


def parse(ctx: Ctx, args: str, *, command: str) -> Filter:
    """`args` as typed (or carried by a button); a word that fits nothing is refused."""
    words = args.split()
    folded = [fold(w) for w in words]
    states: set[str] = set()
    municipality: str | None = None
    school: str | None = None
    overdue = mine = False
    page = 1
    i = 0
    while i < len(words):
        if folded[i].isdigit():
            page = max(1, int(folded[i]))
            i += 1
            continue
        n, word = _keyword(folded, i)
        if word == OPEN:
            states |= {s.value for s in OPEN_STATES}
        elif word == OVERDUE:
            overdue = True
        elif word == MINE:
            mine = True
        elif word is not None:
            states.add(word)
        elif (found := _municipality(ctx, folded, i)) is not None:
            n, municipality = found
        elif (place := _school(ctx, folded, i)) is not None:
            n, school = place
        else:
            raise Refused(
                ctx.t('I don\'t understand "{word}" here.', word=words[i][:40])
                + " "
                + ctx.t(FILTER_HELP, command=command)
            )
        i += n
    return Filter(
        states=frozenset(states),
        municipality=municipality,
        school=school,
        overdue=overdue,
        mine=mine,
        page=page,
        words=tuple(words),
    )


def _keyword(folded: list[str], i: int) -> tuple[int, str | None]:
    for n in range(min(LONGEST, len(folded) - i), 0, -1):
        word = PHRASES.get(" ".join(folded[i : i + n]))
        if word is not None:
            return n, word
    return 1, None


def _municipality(ctx: Ctx, folded: list[str], i: int) -> tuple[int, str] | None:
    """The longest run of words from `i` that is a municipality's name or code."""
    known = {fold(m.name): m.code for m in queries.municipalities(ctx.session)}
    known |= {fold(code): code for code in known.values()}
    for n in range(len(folded) - i, 0, -1):
        code = known.get(" ".join(folded[i : i + n]))
        if code is not None:
            return n, code
    word = folded[i].upper()  # a municipality outside the region, by its CBS code (a button)
    if re.fullmatch(r"GM\d{4}", word) and queries.municipality_name(ctx.session, code=word) != word:
        return 1, word
    return None


def _school(ctx: Ctx, folded: list[str], i: int) -> tuple[int, str] | None:
    """A school's id, its whole name, or words that fit one school's name only."""
    schools = ctx.session.exec(select(School)).all()
    for n in range(len(folded) - i, 0, -1):
        text = " ".join(folded[i : i + n])
        exact = [s.id for s in schools if text in (fold(s.id), fold(s.name))]
        if exact:
            return n, exact[0]
        partial = [
            s.id
            for s in schools
            if text in fold(s.name).split() or (len(text) >= 4 and text in fold(s.name))
        ]
        if len(partial) == 1:
            return n, partial[0]
    return None
