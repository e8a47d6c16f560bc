"""The entries of a region file -- a municipality, a school, a person, the schedule -- and the
errors that point into the file.

Each entry checks itself (patterns, types, the schedule's values); :class:`bot.region.Region`
checks how they refer to each other. A problem found inside a validator is a
:class:`RegionProblem` that knows its path in the file; :func:`bot.region_file.load_region`
turns it into a :class:`RegionFileError`, one line for the operator.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.core.teams_identity import parse_teams_identity
from bot.core.vocab import Programme

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


# The roles a person of the region file may have: every Role but a scan's guest, who is no one
# of the region file (added at the table with /scan guest). tests/core/scan/test_scan_table.py
# keeps this in step with Role.
FileRole = Literal["coordinator", "broker", "school_contact", "doorstroompunt"]


class RegionProblem(ValueError):
    """A validation problem that knows where in the region file it is.

    Raised inside validators; ``path`` is relative to the model that raises it (absolute for
    :class:`bot.region.Region`). :func:`bot.region_file.load_region` turns it into a
    :class:`RegionFileError`.
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


class Entry(BaseModel):
    """A part of the region file: unknown keys are refused, and nothing changes once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MunicipalityEntry(Entry):
    """A municipality of the region, by CBS code (``GM`` and four digits) and name."""

    code: str = Field(pattern=_CODE_PATTERN)
    name: str = Field(min_length=1)


class SchoolEntry(Entry):
    """A Pro, VSO or Entree school.

    ``municipality`` is the school's municipality (vestigingsgemeente). In the file it may be the
    name or the CBS code; inside a validated :class:`Region` it is always the CBS code.
    """

    id: str = Field(pattern=_ID_PATTERN)
    name: str = Field(min_length=1)
    type: Programme
    municipality: str = Field(min_length=1)


class PersonEntry(Entry):
    """A person of the network.

    ``municipality`` (name or CBS code in the file, CBS code inside a validated
    :class:`Region`) is required for brokers; ``school`` (a school id) is required for school
    contacts. A doorstroompunt without a municipality works for the whole region.
    ``language`` of ``None`` means the region's default language. ``teams`` is the person's
    Microsoft Teams identity: their Entra object id (a GUID) or their user principal name
    (``name@domain``), in lower case once read (:mod:`bot.core.teams_identity`).
    """

    id: str = Field(pattern=_ID_PATTERN)
    name: str = Field(min_length=1)
    roles: list[FileRole]
    municipality: str | None = Field(default=None, min_length=1)
    school: str | None = Field(default=None, min_length=1)
    slack: str | None = Field(default=None, min_length=1)
    telegram: int | None = Field(default=None, strict=True)
    teams: str | None = Field(default=None, min_length=1)
    language: Language | None = None

    @field_validator("teams")
    @classmethod
    def _check_teams(cls, value: str | None) -> str | None:
        if value is None:
            return None
        identity = parse_teams_identity(value)
        if identity is None:
            raise ValueError(
                f"'{value}' is not a Teams identity: give the Entra object id (a GUID such as "
                "5f1c0d2e-6a7b-4c8d-9e0f-123456789abc) or the user principal name (name@domain)"
            )
        return identity.text


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


class ScheduleEntry(Entry):
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
