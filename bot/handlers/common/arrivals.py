"""When a request arrived: a stamp per request, in the order they came.

Slack's requests are acknowledged first and worked on after, each in a worker thread, so a
vote acknowledged before the facilitator's close may be worked on after it. The transport
stamps each request as it arrives and the core orders by the stamps (a scan's mark counts when
it arrived before the close). Stamps are the core's clock, made strictly increasing within the
process, so two requests never share one (also while a test holds the clock still).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from bot.core import clock

ARRIVED = "vangnet_arrived"  # the key of the stamp in a bolt request's context
TICK = timedelta(microseconds=1)


class Arrivals:
    def __init__(self) -> None:
        self._last = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def stamp(self) -> datetime:
        with self._lock:
            now = max(clock.now(), self._last + TICK)
            self._last = now
            return now
