"""Field parsing: how an answer is understood and checked (months and dates, years, choices,
yes or no, text), and a date written back as it will be saved.

One set of parsers serves every way in — the guided conversation, the CSV import and the Slack
modal — so a date or a choice means the same wherever it is typed. Each parser takes the raw
text and returns the value, or raises FieldError with a message in the user's language (and,
for a typo, the closest answers to offer as buttons). The leaver's own fields (the table of
them and the home municipality) are `bot.core.intake.fields`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel.dates import format_date, get_month_names
from sqlmodel import Session

from bot.core.i18n import LANGUAGES, Translator
from bot.core.text import clean, visible
from bot.core.vocab import Consent, Destination, DestinationWish, Programme, VsoProfile, label
from bot.store.models import Municipality

MAX_FUTURE_MONTHS = 24
EARLY_LEAVER_PAST_MONTHS = 6


class FieldError(ValueError):
    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []


@dataclass(frozen=True)
class ParseEnv:
    """What parsing needs besides the text: the language, today, the directory."""

    t: Translator
    today: date
    session: Session
    answers: dict[str, Any] = field(default_factory=dict)
    # The region's municipalities, read when the first is named: a file names them in
    # thousands of rows (at most once per spelling, but a region has dozens).
    municipalities: list[Municipality] = field(default_factory=list)
    # what a parser wants the person to know about an answer it took ("Nieuwleusen is in the
    # municipality of Dalfsen"), shown with the next question
    notes: list[str] = field(default_factory=list)


# Month names people type, in the languages Vangnet speaks, from Babel's locale data (wide
# and abbreviated: "maart", "mrt", "march", "mar"), plus the common Dutch "sept".
MONTHS: dict[str, int] = {
    name.casefold(): number
    for language in LANGUAGES
    for width in ("wide", "abbreviated")
    for number, name in get_month_names(width, locale=language).items()
}
MONTHS["sept"] = 9

_FILLERS = re.compile(
    r"\b(eind|einde|begin|medio|half|halverwege|end|end of|start of|mid|of|in|van)\b\.?"
)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def parse_month(raw: str, env: ParseEnv, *, early_leaver: bool = False) -> date:
    """An expected exit: a month (first day) or a day, within the coming 24 months."""
    t = env.t
    text = raw.strip().casefold()
    text = _FILLERS.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip(" ,.")
    found: date | None = None
    day = 1
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?", text):
        y, mo, day = int(m[1]), int(m[2]), int(m[3] or 1)
        found = _safe_date(y, mo, day)
    elif m := re.fullmatch(r"(?:(\d{1,2})[-/.])?(\d{1,2})[-/.](\d{4})", text):
        day, mo, y = int(m[1] or 1), int(m[2]), int(m[3])
        found = _safe_date(y, mo, day)
    elif m := re.fullmatch(r"(?:(\d{1,2}) )?([a-z]+)\.?(?: (\d{4}))?", text):
        mo_name = m[2]
        if mo_name in MONTHS:
            mo = MONTHS[mo_name]
            day = int(m[1] or 1)
            if m[3]:
                found = _safe_date(int(m[3]), mo, day)
            else:  # the next time this month comes round (this month counts)
                year = env.today.year if mo >= env.today.month else env.today.year + 1
                found = _safe_date(year, mo, day)
    if found is None:
        raise FieldError(
            t(
                'I don\'t understand "{text}" as a month. Try for example 2027-06, '
                "06-2027 or June 2027.",
                text=raw.strip(),
            )
        )
    first = date(env.today.year, env.today.month, 1)
    earliest = _add_months(first, -EARLY_LEAVER_PAST_MONTHS) if early_leaver else first
    latest = _add_months(first, MAX_FUTURE_MONTHS + 1)
    if found < earliest:
        if early_leaver:
            raise FieldError(t("That is too long ago to register as an early leaver."))
        raise FieldError(
            t(
                "That month is in the past. If the young person already left school, "
                "register them as an early leaver."
            )
        )
    if found >= latest:
        raise FieldError(t("Give a month within the coming 24 months."))
    return found


def full_date(t: Translator, d: date) -> str:
    """'1 maart 2027': a date as a summary shows what will be saved (never only its month)."""
    return format_date(d, "d MMMM yyyy", locale=t.language)


def _safe_date(y: int, mo: int, d: int) -> date | None:
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def parse_birth_year(raw: str, env: ParseEnv) -> int:
    t = env.t
    text = raw.strip()
    if not re.fullmatch(r"\d{4}", text):
        raise FieldError(t("Give the year of birth as four digits, for example 2009."))
    year = int(text)
    low, high = env.today.year - 30, env.today.year - 11
    if not low <= year <= high:
        raise FieldError(t("A year of birth between {low} and {high}, please.", low=low, high=high))
    return year


_ALIASES: dict[str, dict[str, str]] = {
    "programme": {
        "pro": "pro",
        "praktijkonderwijs": "pro",
        "vso": "vso",
        "voortgezet speciaal onderwijs": "vso",
        "entree": "entree",
        "mbo entree": "entree",
        "entreeopleiding": "entree",
        "mbo-entree": "entree",
        "mbo niveau 1": "entree",
        "mbo 1": "entree",
    },
    "vso_profile": {
        "work": "work",
        "arbeid": "work",
        "werk": "work",
        "arbeidsmarkt": "work",
        "arbeidsmarktgericht": "work",
        "day_activities": "day_activities",
        "dagbesteding": "day_activities",
        "arbeidsmatige dagbesteding": "day_activities",
        "further_education": "further_education",
        "vervolgonderwijs": "further_education",
    },
    "destination_wish": {
        "further_education": "further_education",
        "vervolgonderwijs": "further_education",
        "opleiding": "further_education",
        "work": "work",
        "werk": "work",
        "sheltered_work": "sheltered_work",
        "beschut werk": "sheltered_work",
        "beschut": "sheltered_work",
        "day_activities": "day_activities",
        "dagbesteding": "day_activities",
        "unknown": "unknown",
        "onbekend": "unknown",
    },
    "consent": {
        "given": "given",
        "ja": "given",
        "yes": "given",
        "gegeven": "given",
        "refused": "refused",
        "nee": "refused",
        "no": "refused",
        "geweigerd": "refused",
        "not_asked": "not_asked",
        "niet gevraagd": "not_asked",
        "not asked": "not_asked",
    },
    "destination": {
        "werk": "work",
        "werk met ondersteuning": "work_with_support",
        "loonkostensubsidie": "work_with_support",
        "praktijkroute": "work_with_support",
        "beschut werk": "sheltered_work",
        "mbo": "further_education",
        "bol": "further_education",
        "bbl": "further_education",
        "vervolgonderwijs": "further_education",
        "andere school": "other_school",
        "dagbesteding": "day_activities",
        "leerwerktraject": "training_route",
        "verhuisd": "moved_away",
        "geen": "none",
        "thuiszitter": "none",
    },
    "yes_no": {
        "yes": "yes",
        "ja": "yes",
        "y": "yes",
        "j": "yes",
        "true": "yes",
        "1": "yes",
        "no": "no",
        "nee": "no",
        "n": "no",
        "false": "no",
        "0": "no",
    },
}

CHOICES: dict[str, list[str]] = {
    "programme": [p.value for p in Programme],
    "vso_profile": [p.value for p in VsoProfile],
    "destination_wish": [d.value for d in DestinationWish],
    "consent": [c.value for c in Consent],
    "destination": [d.value for d in Destination],
}


def parse_choice(kind: str, raw: str, env: ParseEnv) -> str:
    text = raw.strip().casefold().replace("-", " ").replace("_", " ")
    for key, value in _ALIASES[kind].items():
        if text == key.replace("_", " ").replace("-", " "):
            return value
    for value in CHOICES.get(kind, []):
        if text == label(env.t, value).casefold():
            return value
    options = ", ".join(label(env.t, v) for v in CHOICES.get(kind, ["yes", "no"]))
    raise FieldError(env.t("Choose one of: {options}.", options=options))


# The first word of a programme as exports write it ("Praktijkonderwijs", "PrO 4", "VSO
# arbeidsmarktgericht", "Entree - Assistent logistiek", "MBO Entree"), and the words before a
# VSO profile ("Uitstroomprofiel arbeid", "VSO dagbesteding").
_PROGRAMME_WORDS = {
    "pro": "pro",
    "praktijkonderwijs": "pro",
    "praktijkschool": "pro",
    "vso": "vso",
    "entree": "entree",
    "entreeopleiding": "entree",
}
_PROFILE_PREFIXES = frozenset({"uitstroomprofiel", "profiel", "uitstroom", "vso"})


def _words(raw: str) -> list[str]:
    return re.sub(r"[-_/,:;().]+", " ", raw.casefold()).split()


def programme_and_profile(raw: str, env: ParseEnv) -> tuple[str, str | None]:
    """A programme as schools write it, with the VSO profile when the value names one:
    "Praktijkonderwijs" is ("pro", None), "VSO arbeidsmarktgericht" ("vso", "work")."""
    try:
        return parse_choice("programme", raw, env), None
    except FieldError as refused:
        problem = refused
    words = _words(raw)
    if words[:3] == ["voortgezet", "speciaal", "onderwijs"]:
        words = ["vso", *words[3:]]
    if words[:1] == ["mbo"]:
        words = words[1:]
    programme = _PROGRAMME_WORDS.get(words[0]) if words else None
    if programme is None and {"entree", "entreeopleiding"} & set(words):
        programme = "entree"  # "Assistent logistiek (Entree)"
    if programme is None:
        raise problem
    if programme == "vso" and len(words) > 1:
        try:
            return programme, parse_profile(" ".join(words[1:]), env)
        except FieldError:  # "VSO cluster 4": no profile; its own column may give one
            return programme, None
    return programme, None


def parse_programme(raw: str, env: ParseEnv) -> str:
    return programme_and_profile(raw, env)[0]


def parse_profile(raw: str, env: ParseEnv) -> str:
    """A VSO profile as schools write it: "arbeid", "werk", "Uitstroomprofiel arbeid"."""
    try:
        return parse_choice("vso_profile", raw, env)
    except FieldError as refused:
        words = _words(raw)
        while words and words[0] in _PROFILE_PREFIXES:
            words = words[1:]
        if not words:
            raise
        try:
            return parse_choice("vso_profile", " ".join(words), env)
        except FieldError:
            raise refused from None


def parse_yes_no(raw: str, env: ParseEnv) -> bool:
    text = raw.strip().casefold()
    if text in _ALIASES["yes_no"]:
        return _ALIASES["yes_no"][text] == "yes"
    raise FieldError(env.t("Answer yes or no."))


def parse_text(max_len: int) -> Callable[[str, ParseEnv], str]:
    def parse(raw: str, env: ParseEnv) -> str:
        raw = clean(raw)
        text = " ".join(raw.split()) if max_len <= 200 else raw.strip()
        if not visible(text).strip():
            raise FieldError(env.t("This cannot be empty."))
        if len(text) > max_len:
            raise FieldError(env.t("At most {n} characters, please.", n=max_len))
        return text

    return parse
