"""The one place the core asks what time it is; tests freeze it with time-machine.

The terminal demo may move the clock forward (`/clock`, see `bot.core.democlock`): the moved
time is the real time plus an offset, which only the terminal ever sets. A real network's
clock is never moved.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# How far the terminal demo moved the clock ahead of real time; zero everywhere else. The one
# piece of process-wide state in the core, on purpose: everything asks `now()`.
_ahead = [timedelta(0)]


def now() -> datetime:
    return datetime.now(UTC) + _ahead[0]


def today(tz: ZoneInfo) -> date:
    return now().astimezone(tz).date()


def ahead() -> timedelta:
    """How far the clock runs ahead of real time (the terminal demo's /clock)."""
    return _ahead[0]


def set_ahead(offset: timedelta) -> None:
    """Run the clock `offset` ahead of real time; never behind it."""
    if offset < timedelta(0):
        raise ValueError("the clock never goes back")
    _ahead[0] = offset
