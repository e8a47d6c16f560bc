"""Working days in the region's time zone: weekends and Dutch public holidays are skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Reminders and escalations arrive at the start of the working day they fall on.
WORKDAY_START = time(9, 0)


@lru_cache(maxsize=4)
def _dutch_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _dutch_holidays(day.year)


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day` (n ≥ 1)."""
    current = day
    counted = 0
    while counted < n:
        current += timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current


def working_days_later(moment: datetime, n: int, tz: ZoneInfo) -> datetime:
    """09:00 local time on the n-th working day after `moment`'s local date, in UTC."""
    day = add_working_days(moment.astimezone(tz).date(), n)
    return at_local(day, WORKDAY_START, tz)


def at_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    n, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            n += 1
    return n


def working_days_before(day: date, n: int) -> date:
    """The working day n working days before `day` (n ≥ 1)."""
    current, counted = day, 0
    while counted < n:
        current -= timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current
