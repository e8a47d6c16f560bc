"""How the answers of the directory forms are understood: roles, municipality, school,
language, Slack member, Teams account, and the ids of new schools and municipalities.

Each parser takes the raw text and returns the value (in a canonical text form the
conversation row keeps), or raises FieldError with a message in the coordinator's language.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from sqlmodel import select

from bot.core.context import Ctx
from bot.core.directory import match_municipality
from bot.core.i18n import LANGUAGES
from bot.core.intake.fields import FieldError, ParseEnv
from bot.core.teams_identity import parse_teams_identity
from bot.core.vocab import Programme, Role, label
from bot.store.models import Municipality, School

# the roles a coordinator gives in the form, in the order the buttons show them
ROLE_CHOICES: tuple[str, ...] = (
    Role.broker.value,
    Role.school_contact.value,
    Role.coordinator.value,
    Role.doorstroompunt.value,
)
SCHOOL_TYPES: tuple[str, ...] = tuple(p.value for p in Programme)
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
CODE_PATTERN = re.compile(r"GM\d{4}")
# a Slack member id, as typed (U0123ABC) or as Slack writes a mention (<@U0123ABC|bram>)
SLACK_PATTERN = re.compile(r"<?@?([UW][A-Z0-9]{2,39})(?:\|[^>]*)?>?")


def parse_roles(raw: str, env: ParseEnv) -> str:
    """One or more roles, by key or by their label in either language, separated by commas,
    spaces or "and"/"en": "broker, coordinator" → "broker,coordinator"."""
    text = raw.strip().casefold()
    known: dict[str, str] = {}
    for role in ROLE_CHOICES:
        known[role] = role
        known[label(env.t, role).casefold()] = role
        known[role.replace("_", " ")] = role
    found: list[str] = []
    for part in re.split(r"\s*(?:,|;|\+|\ben\b|\band\b)\s*", text):
        part = part.strip()
        if not part:
            continue
        chosen = known.get(part)
        if chosen is None:
            names = ", ".join(label(env.t, r) for r in ROLE_CHOICES)
            raise FieldError(env.t("Choose roles from: {roles}.", roles=names))
        if chosen not in found:
            found.append(chosen)
    if not found:
        raise FieldError(env.t("This cannot be empty."))
    return ",".join(r for r in ROLE_CHOICES if r in found)


def roles_of(value: str) -> list[str]:
    return [r for r in value.split(",") if r]


def parse_municipality(raw: str, env: ParseEnv) -> str:
    """A municipality of the directory, by name or CBS code; its code."""
    found, close = match_municipality(env.session, raw)
    if found is None:
        raise FieldError(
            env.t("{name} is not a municipality of this region.", name=raw.strip()[:60]), close
        )
    return found.code


def parse_school(raw: str, env: ParseEnv) -> str:
    """A school of the directory, by id, name or words of its name ("De Brug" for
    "Praktijkschool De Brug"); its id. Words that fit several schools, or a typing error,
    are answered with the closest names to choose from."""
    q = " ".join(raw.strip().casefold().split())
    schools = env.session.exec(select(School).order_by(School.name)).all()
    for school in schools:
        if q in (school.id.casefold(), school.name.casefold()):
            return school.id
    names = {s.name.casefold(): s.name for s in schools}
    fitting = [s for s in schools if q and _words_fit(q, s.name.casefold())]
    if len(fitting) == 1:
        return fitting[0].id
    if fitting:
        raise FieldError(
            env.t("Several schools fit {name}: which one?", name=raw.strip()[:60]),
            [s.name for s in fitting[:10]],
        )
    # the closest name, or the closest ending of a name ("de brg" is close to "de brug")
    tails = {
        " ".join(words[i:]): name
        for name in names
        for words in [name.split()]
        for i in range(len(words))
    }
    close = difflib.get_close_matches(q, list(tails), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(names[tails[c]] for c in close))
    raise FieldError(
        env.t("{name} is not a school of this region.", name=raw.strip()[:60]), suggestions
    )


def _words_fit(query: str, name: str) -> bool:
    """Whether `query` is a run of whole words of `name` (or the start of its last one)."""
    words, wanted = name.split(), query.split()
    for i in range(len(words) - len(wanted) + 1):
        part = words[i : i + len(wanted)]
        if part[:-1] == wanted[:-1] and part[-1].startswith(wanted[-1]):
            return True
    return False


# more schools than this: the school step offers no buttons, only the typed name
MAX_SCHOOL_BUTTONS = 20


def school_options(ctx: Ctx, values: dict[str, Any]) -> list[tuple[str, str]]:
    """The school step's buttons: the schools of the municipality chosen before, or all of
    them; none when there are too many to show (then a word of the name is typed)."""
    schools = list(ctx.session.exec(select(School).order_by(School.name)).all())
    here = [s for s in schools if s.municipality_code == values.get("municipality")]
    shown = here or schools
    if len(shown) > MAX_SCHOOL_BUTTONS:
        return []
    return [(s.id, s.name) for s in shown]


def parse_language(raw: str, env: ParseEnv) -> str:
    text = raw.strip().casefold()
    for language in LANGUAGES:
        if text in (language, label(env.t, language).casefold()):
            return language
    raise FieldError(env.t("Choose Dutch (nl) or English (en)."))


def parse_slack(raw: str, env: ParseEnv) -> str:
    """A Slack member id (U… or W…), typed or as a mention."""
    match = SLACK_PATTERN.fullmatch(raw.strip())
    if match is None:
        raise FieldError(
            env.t(
                "That is not a Slack member id. In Slack: the person's profile, ⋮, "
                "Copy member ID (it starts with U)."
            )
        )
    return match[1]


def parse_teams(raw: str, env: ParseEnv) -> str:
    """A Teams account: the Entra object id (a GUID) or the address the person signs in to
    Microsoft 365 with (their user principal name); in lower case."""
    identity = parse_teams_identity(raw)
    if identity is None:
        raise FieldError(
            env.t(
                "That is not a Teams account. Type the address they sign in to Microsoft 365 "
                "with (name@domain), or their Entra object id (like "
                "5f1c0d2e-6a7b-4c8d-9e0f-123456789abc)."
            )
        )
    return identity.text


def parse_new_school_id(raw: str, env: ParseEnv) -> str:
    text = raw.strip().casefold()
    if ID_PATTERN.fullmatch(text) is None:
        raise FieldError(
            env.t("A short code of letters, digits and dashes, for example brug (at most 40).")
        )
    if env.session.get(School, text) is not None:
        raise FieldError(env.t("There is a school with the code {id} already.", id=text))
    return text


def parse_school_type(raw: str, env: ParseEnv) -> str:
    text = raw.strip().casefold()
    for kind in SCHOOL_TYPES:
        if text in (kind, label(env.t, kind).casefold()):
            return kind
    names = ", ".join(label(env.t, k) for k in SCHOOL_TYPES)
    raise FieldError(env.t("Choose one of: {choices}.", choices=names))


def parse_new_code(raw: str, env: ParseEnv) -> str:
    text = raw.strip().upper()
    if CODE_PATTERN.fullmatch(text) is None:
        raise FieldError(env.t("A CBS code is GM and four digits, for example GM0193."))
    if env.session.get(Municipality, text) is not None:
        raise FieldError(env.t("There is a municipality with the code {code} already.", code=text))
    return text
