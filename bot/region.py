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
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.core.vocab import Programme, Role

__all__ = [
    "MunicipalityEntry",
    "PersonEntry",
    "Region",
    "RegionFileError",
    "Role",
    "ScheduleEntry",
    "SchoolEntry",
]

Language = Literal["nl", "en"]
"""The languages Vangnet speaks."""

#: One step in a path into the region file: a mapping key or a list index.
PathPart = str | int
#: A path into the region file, e.g. ``("people", 2, "municipality")``.
RegionPath = tuple[PathPart, ...]

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_CODE_PATTERN = r"^GM\d{4}$"
_MONTH_DAY_RE = re.compile(r"^(\d{2})-(\d{2})$")
_DIGEST_RE = re.compile(r"^(MON|TUE|WED|THU|FRI|SAT|SUN) (\d{1,2}):(\d{2})$", re.IGNORECASE)
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


class RegionProblem(ValueError):
    """A validation problem that knows where in the region file it is.

    Raised inside validators; ``path`` is relative to the model that raises it (absolute for
    :class:`Region`). :func:`load_region` turns it into a :class:`RegionFileError`.
    """

    def __init__(self, path: RegionPath, reason: str) -> None:
        super().__init__(reason)
        self.path: RegionPath = path
        self.reason: str = reason


class RegionFileError(Exception):
    """The region file cannot be used. ``str()`` is one line for the operator.

    Format: ``"<file>:<line>: <entry>: <reason>"``, e.g.
    ``regio.yaml:14: people[2] (id: bram): role broker needs a municipality``.
    ``line`` is ``None`` when there is no line to point at (the file does not exist).
    """

    def __init__(self, file: str, line: int | None, entry: str, reason: str) -> None:
        self.file: str = file
        self.line: int | None = line
        self.entry: str = entry
        self.reason: str = reason
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {entry}: {reason}")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MunicipalityEntry(_Entry):
    """A municipality of the region, by CBS code (``GM`` and four digits) and name."""

    code: str = Field(pattern=_CODE_PATTERN)
    name: str = Field(min_length=1)


class SchoolEntry(_Entry):
    """A Pro, VSO or Entree school.

    ``municipality`` is the school's municipality (vestigingsgemeente). In the file it may be the
    name or the CBS code; inside a validated :class:`Region` it is always the CBS code.
    """

    id: str = Field(pattern=_ID_PATTERN)
    name: str = Field(min_length=1)
    type: Programme
    municipality: str = Field(min_length=1)


class PersonEntry(_Entry):
    """A person of the network.

    ``municipality`` (name or CBS code in the file, CBS code inside a validated
    :class:`Region`) is required for brokers; ``school`` (a school id) is required for school
    contacts. A doorstroompunt without a municipality works for the whole region.
    ``language`` of ``None`` means the region's default language.
    """

    id: str = Field(pattern=_ID_PATTERN)
    name: str = Field(min_length=1)
    roles: list[Role]
    municipality: str | None = Field(default=None, min_length=1)
    school: str | None = Field(default=None, min_length=1)
    slack: str | None = Field(default=None, min_length=1)
    telegram: int | None = Field(default=None, strict=True)
    language: Language | None = None


def _check_month_day(value: str) -> tuple[int, int]:
    match = _MONTH_DAY_RE.match(value)
    if match is None:
        raise ValueError(f"'{value}' is not a month-day like \"10-01\"")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        date(2001, month, day)  # not a leap year: 02-29 is refused
    except ValueError:
        raise ValueError(f"'{value}' is not a date that exists every year") from None
    return month, day


class ScheduleEntry(_Entry):
    """When things happen. All times are in the region's time zone; workdays skip weekends and
    Dutch public holidays.

    - ``forecast_rounds``: month-days ("MM-DD") on which a forecasting round starts.
    - ``handover_window_weeks``: how long before a leaver's exit date the handover is due.
    - ``remind_after_workdays`` / ``escalate_after_workdays``: unanswered pings are reminded,
      then escalated to the coordinator.
    - ``followup_days``: days after the placement on which follow-ups are asked.
    - ``digest``: when the weekly digest goes out, "DAY HH:MM" (normalised to e.g. "MON 08:30").
    - ``retention_months``: personal data of closed cases is erased after this.
    - ``conversation_timeout_days``: an unfinished conversation is dropped after this.
    - ``round_answer_workdays``: how long a school has to answer a forecasting round.
    """

    forecast_rounds: list[str] = Field(default_factory=lambda: ["10-01", "03-01"], min_length=1)
    handover_window_weeks: int = Field(default=13, gt=0, strict=True)
    remind_after_workdays: int = Field(default=3, gt=0, strict=True)
    escalate_after_workdays: int = Field(default=7, gt=0, strict=True)
    followup_days: list[int] = Field(default_factory=lambda: [30, 91, 182, 365], min_length=1)
    digest: str = "MON 08:30"
    retention_months: int = Field(default=24, gt=0, strict=True)
    conversation_timeout_days: int = Field(default=7, gt=0, strict=True)
    round_answer_workdays: int = Field(default=10, gt=0, strict=True)

    @field_validator("forecast_rounds")
    @classmethod
    def _check_forecast_rounds(cls, value: list[str]) -> list[str]:
        seen: set[tuple[int, int]] = set()
        for index, item in enumerate(value):
            try:
                month_day = _check_month_day(item)
            except ValueError as exc:
                raise RegionProblem((index,), f"forecast_rounds[{index}]: {exc}") from None
            if month_day in seen:
                raise RegionProblem((index,), f"forecast_rounds[{index}]: '{item}' is listed twice")
            seen.add(month_day)
        return value

    @field_validator("followup_days")
    @classmethod
    def _check_followup_days(cls, value: list[int]) -> list[int]:
        previous = 0
        for index, days in enumerate(value):
            if isinstance(days, bool) or days <= 0:
                raise RegionProblem(
                    (index,), f"followup_days[{index}]: {days!r} is not a positive number of days"
                )
            if days <= previous:
                raise RegionProblem(
                    (index,),
                    f"followup_days[{index}]: {days} must be greater than the one before it "
                    f"({previous}); the days must be strictly increasing",
                )
            previous = days
        return value

    @field_validator("digest")
    @classmethod
    def _check_digest(cls, value: str) -> str:
        match = _DIGEST_RE.match(value.strip())
        if match is not None:
            hour, minute = int(match.group(2)), int(match.group(3))
            if hour <= 23 and minute <= 59:
                return f"{match.group(1).upper()} {hour:02d}:{minute:02d}"
        raise ValueError(
            f"'{value}' is not a day and time like \"MON 08:30\" (day MON, TUE, WED, THU, FRI, "
            "SAT or SUN; time HH:MM)"
        )

    @model_validator(mode="after")
    def _check_escalation_after_reminder(self) -> ScheduleEntry:
        if self.escalate_after_workdays <= self.remind_after_workdays:
            raise RegionProblem(
                ("escalate_after_workdays",),
                f"escalate_after_workdays ({self.escalate_after_workdays}) must be greater than "
                f"remind_after_workdays ({self.remind_after_workdays})",
            )
        return self

    @property
    def forecast_round_dates(self) -> list[tuple[int, int]]:
        """The forecasting rounds as (month, day) pairs, in the order of the file."""
        return [_check_month_day(item) for item in self.forecast_rounds]

    @property
    def digest_weekday(self) -> int:
        """The digest's weekday, Monday = 0 (as :meth:`datetime.date.weekday`)."""
        return _WEEKDAYS.index(self.digest[:3])

    @property
    def digest_time(self) -> time:
        """The digest's local time of day (in the region's time zone)."""
        hour, minute = self.digest[4:].split(":")
        return time(int(hour), int(minute))


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


class Region(_Entry):
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
