"""The region file: who is who in a regional network, and when things happen.

A region file is YAML (see ``bot/content/demo_region.yaml`` and section 9 of the product
description). It names the region, its time zone and default language, its municipalities
(CBS codes such as ``GM0193``), its schools, its people with their roles, and the schedule.

:func:`bot.region_file.load_region` reads and validates a file. Anything wrong -- a file
that is missing or not YAML, an unknown key, a missing key, a wrong type, a bad time zone, a
school or person in an unknown municipality, a broker without a municipality, a school
contact without a school, a duplicate id, a bad schedule value -- raises
:class:`RegionFileError`, whose message is one English line for the operator:
``"<file>:<line>: <entry>: <reason>"``.

Municipalities may be referred to by CBS code or by name (any letter case) in ``schools`` and
``people``. After validation of a :class:`Region` the ``municipality`` field of every
:class:`SchoolEntry` and :class:`PersonEntry` holds the municipality's CBS **code**, so the rest
of the bot never has to resolve names. (A :class:`SchoolEntry` or :class:`PersonEntry` built on
its own, outside a :class:`Region`, keeps whatever text it was given.)

This module holds the :class:`Region` with its cross-checks and lookups; the entries and the
error types are in :mod:`bot.region_entries`, and are importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from bot.core.vocab import Role
from bot.region_entries import (
    Entry,
    Language,
    MunicipalityEntry,
    PersonEntry,
    RegionFileError,
    RegionPath,
    RegionProblem,
    ScheduleEntry,
    SchoolEntry,
)

__all__ = [
    "Language",
    "MunicipalityEntry",
    "PersonEntry",
    "Region",
    "RegionFileError",
    "RegionPath",
    "RegionProblem",
    "Role",
    "ScheduleEntry",
    "SchoolEntry",
]


def _municipality_lookup(municipalities: Sequence[Any]) -> dict[str, str]:
    """Map upper-cased codes and case-folded names to codes, from raw or validated entries."""
    lookup: dict[str, str] = {}
    for item in municipalities:
        code: Any
        name: Any
        if isinstance(item, MunicipalityEntry):
            code, name = item.code, item.name
        elif isinstance(item, dict):
            code, name = item.get("code"), item.get("name")
        else:
            continue
        if isinstance(code, str):
            lookup.setdefault(code.strip().upper(), code)
            if isinstance(name, str):
                lookup.setdefault(name.strip().casefold(), code)
    return lookup


def _resolve(lookup: dict[str, str], text: str) -> str | None:
    key = text.strip()
    return lookup.get(key.upper()) or lookup.get(key.casefold())


def _normalise_entries(entries: Any, lookup: dict[str, str]) -> Any:
    """Replace municipality names by codes in raw (or already built) school/person entries."""
    if not isinstance(entries, list):
        return entries
    result: list[Any] = []
    for item in entries:
        if isinstance(item, dict) and isinstance(item.get("municipality"), str):
            code = _resolve(lookup, item["municipality"])
            if code is not None:
                item = {**item, "municipality": code}
        elif isinstance(item, SchoolEntry | PersonEntry) and item.municipality is not None:
            code = _resolve(lookup, item.municipality)
            if code is not None and code != item.municipality:
                item = item.model_copy(update={"municipality": code})
        result.append(item)
    return result


class Region(Entry):
    """A regional network: its municipalities, schools, people and schedule.

    Inside a validated region, ``SchoolEntry.municipality`` and ``PersonEntry.municipality`` are
    CBS codes (the file may use names). Lookups return ``None`` when nothing matches.
    """

    region: str = Field(min_length=1)
    timezone: str = "Europe/Amsterdam"
    language: Language = "nl"
    municipalities: list[MunicipalityEntry]
    schools: list[SchoolEntry] = Field(default_factory=list)
    people: list[PersonEntry] = Field(default_factory=list)
    schedule: ScheduleEntry = Field(default_factory=ScheduleEntry)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}' (use an IANA name such as Europe/Amsterdam)"
            ) from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _municipality_names_to_codes(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("municipalities"), list):
            return data
        lookup = _municipality_lookup(data["municipalities"])
        result = dict(data)
        for key in ("schools", "people"):
            if key in result:
                result[key] = _normalise_entries(result[key], lookup)
        return result

    @model_validator(mode="after")
    def _check_references(self) -> Region:
        for problem in self._problems():
            raise problem
        return self

    def _problems(self) -> Iterator[RegionProblem]:
        """Every cross-reference problem, in the order of the file."""
        if not self.municipalities:
            yield RegionProblem(("municipalities",), "at least one municipality is needed")
        codes: set[str] = set()
        names: set[str] = set()
        for index, muni in enumerate(self.municipalities):
            if muni.code in codes:
                yield RegionProblem(
                    ("municipalities", index, "code"),
                    f"municipality code {muni.code} is listed twice",
                )
            if muni.name.casefold() in names:
                yield RegionProblem(
                    ("municipalities", index, "name"),
                    f"municipality name '{muni.name}' is listed twice",
                )
            codes.add(muni.code)
            names.add(muni.name.casefold())

        school_ids: set[str] = set()
        for index, school in enumerate(self.schools):
            if school.id in school_ids:
                yield RegionProblem(
                    ("schools", index, "id"), f"school id '{school.id}' is used twice"
                )
            school_ids.add(school.id)
            if school.municipality not in codes:
                yield RegionProblem(
                    ("schools", index, "municipality"),
                    f"municipality '{school.municipality}' is not one of the region's "
                    "municipalities",
                )

        person_ids: set[str] = set()
        slack_ids: dict[str, str] = {}
        telegram_ids: dict[int, str] = {}
        teams_ids: dict[str, str] = {}
        for index, person in enumerate(self.people):
            if person.id in person_ids:
                yield RegionProblem(
                    ("people", index, "id"), f"person id '{person.id}' is used twice"
                )
            person_ids.add(person.id)
            if person.municipality is not None and person.municipality not in codes:
                yield RegionProblem(
                    ("people", index, "municipality"),
                    f"municipality '{person.municipality}' is not one of the region's "
                    "municipalities",
                )
            if person.school is not None and person.school not in school_ids:
                yield RegionProblem(
                    ("people", index, "school"),
                    f"school '{person.school}' is not in the schools list",
                )
            if Role.broker in person.roles and person.municipality is None:
                yield RegionProblem(("people", index), "role broker needs a municipality")
            if Role.school_contact in person.roles and person.school is None:
                yield RegionProblem(("people", index), "role school_contact needs a school")
            if person.slack is not None:
                if person.slack in slack_ids:
                    yield RegionProblem(
                        ("people", index, "slack"),
                        f"slack id {person.slack} is already used by '{slack_ids[person.slack]}'",
                    )
                slack_ids.setdefault(person.slack, person.id)
            if person.telegram is not None:
                if person.telegram in telegram_ids:
                    yield RegionProblem(
                        ("people", index, "telegram"),
                        f"telegram id {person.telegram} is already used by "
                        f"'{telegram_ids[person.telegram]}'",
                    )
                telegram_ids.setdefault(person.telegram, person.id)
            if person.teams is not None:
                if person.teams in teams_ids:
                    yield RegionProblem(
                        ("people", index, "teams"),
                        f"teams identity {person.teams} is already used by "
                        f"'{teams_ids[person.teams]}'",
                    )
                teams_ids.setdefault(person.teams, person.id)

    # -- lookups -------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The region's time zone; every schedule runs in it."""
        return ZoneInfo(self.timezone)

    def find_municipality(self, text: str) -> MunicipalityEntry | None:
        """The municipality named by ``text``: a CBS code or a name, any letter case."""
        key = text.strip()
        return next((m for m in self.municipalities if m.code == key.upper()), None) or next(
            (m for m in self.municipalities if m.name.casefold() == key.casefold()), None
        )
