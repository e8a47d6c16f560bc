"""Every place of residence (woonplaats) of the Netherlands with its municipality, from the data
file that ships with the product (bot/content/woonplaatsen_2026.csv; its header names the
source and the year).

A school writes where a young person lives as the student administration has it: the
woonplaats of the address ("Nieuwleusen", "IJsselmuiden", "Dedemsvaart"), which is often a
village of a municipality with another name (Dalfsen, Kampen, Hardenberg). This table is how
such a place is told to be in a municipality.

A name is looked up as people write it: case, accents, hyphens and spaces do not matter
("ijsselmuiden", "Balloerveld", "Oost Souburg"), and the BAG's own suffixes may be left out
("Haren" for "Haren Gn", "Hoogvliet" for "Hoogvliet Rotterdam"). One name may be a place in
several municipalities ("Mastenbroek": Kampen and Zwartewaterland); `named` returns them all.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.region.nl_municipalities import CODE, all_municipalities

DATA_FILE: Path = Path(__file__).resolve().parent.parent / "content" / "woonplaatsen_2026.csv"
PLACE_CODE = re.compile(r"WP\d{4}")
# The suffixes the BAG adds to tell places of one name apart: a province ("Bergen L",
# "Haren Gn", "Beuningen Gld", "Rijswijk (NB)"), a former municipality ("Bavel AC": Alphen-
# Chaam) or "gem(eente) X".
_SUFFIX = re.compile(
    r"\s+(?:\((?:L|Gn|GN|Gld|GLD|NB|NH|Ut|ZH)\)|(?:L|Gn|GN|Gld|NB|NH|Ut|AC)|gem\.?\s.+)$"
)


# Words before a municipality's name that make a place's name of it, not a place in it.
_NOT_A_PLACE = frozenset(
    {"oude", "nieuwe", "klein", "groot", "in", "aan", "op", "bij", "de", "den"}
)


@dataclass(frozen=True)
class Place:
    code: str  # the woonplaatscode, WP + 4 digits
    name: str  # as the BAG names it
    municipality: str  # the CBS code of its municipality


@cache
def all_places() -> tuple[Place, ...]:
    text = DATA_FILE.read_text(encoding="utf-8")
    rows = csv.reader(line for line in text.splitlines() if not line.startswith("#"))
    header = next(rows)
    if header != ["code", "name", "municipality"]:
        raise ValueError(f"{DATA_FILE.name}: the header must be code,name,municipality")
    found = tuple(Place(code, name, municipality) for code, name, municipality in rows)
    known = {m.code for m in all_municipalities()}
    bad = [p.code for p in found if not PLACE_CODE.fullmatch(p.code)]
    bad += [p.municipality for p in found if not CODE.fullmatch(p.municipality)]
    bad += [p.municipality for p in found if p.municipality not in known]
    if bad:
        raise ValueError(f"{DATA_FILE.name}: not codes of this table or of gemeenten: {bad}")
    return found


def key(text: str) -> str:
    """How a name is compared: without accents, case, hyphens and extra spaces."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace("-", " ").split())


def bare(place: Place) -> str:
    """The place's name without the BAG's suffix ("Haren" for "Haren Gn"), or without the
    name of its own municipality after it ("Hoogvliet" for "Hoogvliet Rotterdam")."""
    name = _SUFFIX.sub("", place.name)
    if name != place.name:
        return name
    own = _municipality_names().get(place.municipality, "")
    words = place.name.split()
    if own and len(words) > 1 and place.name.endswith(" " + own):
        rest = place.name[: -len(own) - 1]
        if rest.split()[-1].casefold() not in _NOT_A_PLACE:  # "Oude Pekela", "Broek in Waterland"
            return rest
    return place.name


@cache
def _municipality_names() -> dict[str, str]:
    return {m.code: re.sub(r"\s*\([^)]*\)$", "", m.name) for m in all_municipalities()}


@cache
def _index() -> dict[str, tuple[Place, ...]]:
    """Every accepted spelling (see `key`) -> the places it names."""
    found: dict[str, list[Place]] = {}
    for place in all_places():
        for spelling in {key(place.name), key(bare(place))}:
            found.setdefault(spelling, []).append(place)
    return {spelling: tuple(places) for spelling, places in found.items()}


def named(text: str) -> list[Place]:
    """The places called `text` (in any municipality), in the table's order."""
    return list(_index().get(key(text), ()))


def closest(text: str, among: Iterable[Place], *, n: int = 3, cutoff: float = 0.85) -> list[str]:
    """The names of the places of `among` closest to `text`, to suggest for a typo."""
    names: dict[str, str] = {}
    for place in among:
        names.setdefault(key(place.name), place.name)
    return [names[c] for c in difflib.get_close_matches(key(text), list(names), n, cutoff)]


def in_municipalities(codes: Iterable[str]) -> list[Place]:
    """The places of the municipalities with these CBS codes."""
    wanted = set(codes)
    return [place for place in all_places() if place.municipality in wanted]
