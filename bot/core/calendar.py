"""Working days in the region's time zone: weekends and Dutch public holidays are skipped
(holidays' own working-day arithmetic)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Reminders and escalations arrive at the start of the working day they fall on.
WORKDAY_START = time(9, 0)


@lru_cache(maxsize=1)
def _netherlands() -> holidays.HolidayBase:
    """Dutch public holidays; the years are filled in as they are asked for."""
    return holidays.country_holidays("NL")


def is_working_day(day: date) -> bool:
    return bool(_netherlands().is_working_day(day))


@lru_cache(maxsize=256)
def add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day` (n ≥ 1). Remembered: a batch of cases made due at
    once asks the same question for each."""
    found: date = _netherlands().get_nth_working_day(day, n)
    return found


def working_days_later(moment: datetime, n: int, tz: ZoneInfo) -> datetime:
    """09:00 local time on the n-th working day after `moment`'s local date, in UTC."""
    day = add_working_days(moment.astimezone(tz).date(), n)
    return at_local(day, WORKDAY_START, tz)


def at_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    if end <= start:
        return 0
    count: int = _netherlands().get_working_days_count(start + timedelta(days=1), end)
    return count


def working_days_before(day: date, n: int) -> date:
    """The working day n working days before `day` (n ≥ 1)."""
    found: date = _netherlands().get_nth_working_day(day, -n)
    return found
