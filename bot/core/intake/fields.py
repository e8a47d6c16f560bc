"""The leaver's fields: the table of them (what each is called, whether it is required or
personal, how its answer is parsed) and the home municipality, which the region's directory
and the country's tables decide. The parsers themselves are `bot.core.conversation.fields`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.conversation.fields import (
    CHOICES,
    ParseEnv,
    parse_birth_year,
    parse_choice,
    parse_month,
    parse_profile,
    parse_programme,
    parse_text,
    parse_yes_no,
)
from bot.core.i18n import N_
from bot.core.intake.home import resolve_home


def parse_municipality(raw: str, env: ParseEnv) -> str:
    """A home municipality: one of the region's, any other Dutch municipality (its case then
    goes to the coordinator to hand over to that region), or a place (woonplaats) in one, the
    region's first; see `intake.home`. A place is noted in `env.notes` ("Nieuwleusen is in
    the municipality of Dalfsen")."""
    home = resolve_home(raw, env)
    if home.place:
        env.notes.append(
            env.t(
                "{place} is in the municipality of {municipality}.",
                place=home.place,
                municipality=home.municipality,
            )
        )
    return home.code


@dataclass(frozen=True)
class LeaverField:
    name: str
    label: str
    required: bool
    personal: bool
    parse: Callable[[str, ParseEnv], Any]
    choices: tuple[str, ...] = ()
    help: str = ""


def _exit(raw: str, env: ParseEnv) -> date:
    return parse_month(raw, env, early_leaver=bool(env.answers.get("early_leaver")))


def _choice(kind: str) -> Callable[[str, ParseEnv], str]:
    return lambda raw, env: parse_choice(kind, raw, env)


LEAVER_FIELDS: tuple[LeaverField, ...] = (
    LeaverField(
        "student_ref",
        N_("Student reference"),
        True,
        False,
        parse_text(40),
        help=N_("The school's own reference: initials or student number."),
    ),
    LeaverField("birth_year", N_("Year of birth"), False, False, parse_birth_year),
    LeaverField("home_municipality", N_("Home municipality"), True, False, parse_municipality),
    LeaverField(
        "programme", N_("Programme"), True, False, parse_programme, tuple(CHOICES["programme"])
    ),
    LeaverField(
        "vso_profile",
        N_("VSO profile"),
        False,
        False,
        parse_profile,
        tuple(CHOICES["vso_profile"]),
    ),
    LeaverField("early_leaver", N_("Early leaver"), False, False, parse_yes_no),
    LeaverField("expected_exit", N_("Expected exit"), True, False, _exit),
    LeaverField(
        "destination_wish",
        N_("Destination wish"),
        False,
        False,
        _choice("destination_wish"),
        tuple(CHOICES["destination_wish"]),
    ),
    LeaverField(
        "consent", N_("Consent"), False, False, _choice("consent"), tuple(CHOICES["consent"])
    ),
    LeaverField("name", N_("Name"), False, True, parse_text(200)),
    LeaverField("contact", N_("Contact details"), False, True, parse_text(300)),
    LeaverField(
        "notes",
        N_("What the school knows"),
        False,
        True,
        parse_text(2000),
        help=N_("Internships done, how the young person functions, support needs."),
    ),
)
FIELDS_BY_NAME: dict[str, LeaverField] = {f.name: f for f in LEAVER_FIELDS}
