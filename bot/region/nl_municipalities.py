"""Every municipality of the Netherlands with its CBS code, from the data file that ships with
the product (bot/content/gemeenten_2025.csv; its header names the source and the year).

A region's directory holds the dozen or so municipalities the network serves; this list is
how a home municipality outside the region is recognised as a real Dutch one (and handed to
the coordinator to pass on to that region), and how a typo is told from a place abroad.

Besides CBS's own spelling ("'s-Gravenhage", "Hengelo (O.)") the everyday names are accepted:
a name without CBS's province suffix when only one municipality has it ("Hengelo", but not
"Bergen": there are two), and the two common names that differ from the official ones.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE: Path = Path(__file__).resolve().parent.parent / "content" / "gemeenten_2025.csv"
CODE = re.compile(r"GM\d{4}")
# Everyday names that are not CBS's: the project's own addition, not from the source.
EVERYDAY_NAMES: dict[str, str] = {"den haag": "GM0518", "den bosch": "GM0796"}


@dataclass(frozen=True)
class DutchMunicipality:
    code: str
    name: str


@cache
def all_municipalities() -> tuple[DutchMunicipality, ...]:
    text = DATA_FILE.read_text(encoding="utf-8")
    rows = csv.reader(line for line in text.splitlines() if not line.startswith("#"))
    header = next(rows)
    if header != ["code", "name"]:
        raise ValueError(f"{DATA_FILE.name}: the header must be code,name, not {header}")
    found = tuple(DutchMunicipality(code, name) for code, name in rows)
    bad = [m.code for m in found if not CODE.fullmatch(m.code)]
    if bad:
        raise ValueError(f"{DATA_FILE.name}: not CBS codes: {bad}")
    return found


@cache
def _by_key() -> dict[str, DutchMunicipality]:
    """Every accepted spelling (casefolded) -> the municipality."""
    everything = all_municipalities()
    by_code = {m.code: m for m in everything}
    keys: dict[str, DutchMunicipality] = {}
    short: dict[str, list[DutchMunicipality]] = {}
    for m in everything:
        keys[m.code.casefold()] = m
        keys[m.name.casefold()] = m
        bare = _bare(m.name)
        if bare != m.name.casefold():
            short.setdefault(bare, []).append(m)
    for bare, ms in short.items():
        if len(ms) == 1 and bare not in keys:
            keys[bare] = ms[0]
    for name, code in EVERYDAY_NAMES.items():
        keys[name] = by_code[code]
    return keys


def name_of(code: str) -> str | None:
    """The name of the municipality with CBS code `code`, or None when there is none."""
    found = _by_key().get(code.strip().casefold())
    return found.name if found is not None and found.code == code.strip().upper() else None


def match(text: str) -> tuple[DutchMunicipality | None, list[str]]:
    """The Dutch municipality `text` names (name, everyday name or CBS code), or the names
    closest to it to suggest."""
    key = " ".join(text.strip().casefold().split())
    found = _by_key().get(key)
    if found is not None:
        return found, []
    same = same_name(key)
    if same:  # "Bergen": there is one in Noord-Holland and one in Limburg
        return None, same
    names = {m.name.casefold(): m.name for m in all_municipalities()}
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.75)
    return None, [names[c] for c in close]


def same_name(text: str) -> list[str]:
    """The municipalities that share the name `text` but for CBS's province suffix."""
    key = " ".join(text.strip().casefold().split())
    return [m.name for m in all_municipalities() if _bare(m.name) == key]


def _bare(name: str) -> str:
    """The name without CBS's province suffix: "bergen" for "Bergen (NH.)"."""
    return re.sub(r"\s*\([^)]*\)$", "", name).casefold()
