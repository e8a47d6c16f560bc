"""The one place the core asks what time it is; tests freeze it with time-machine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    return datetime.now(UTC)


def today(tz: ZoneInfo) -> date:
    return now().astimezone(tz).date()
