"""Sending to Teams: every message through the Bot Connector at Teams' pace.

Teams limits a bot per conversation to about 7 messages a second, 60 in 30 seconds and 1,800
an hour. Each conversation gets the shared per-chat pacing (`common.pacing`: one message per
half second, in order, which keeps within the first two) and an hourly bucket of 1,800. A 429
is waited out for as long as its Retry-After says (at most `MAX_RETRY_WAIT` seconds, and
`RETRIES` times): the SDK itself neither retries nor reads Retry-After. What still fails is
raised to the caller (the outbox retries later; `failures.judge` sorts it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from aiohttp import ClientResponseError
from aiolimiter import AsyncLimiter
from cachetools import LRUCache

from bot.handlers.common.pacing import Pacer

log = logging.getLogger(__name__)

T = TypeVar("T")

PER_MESSAGE = 0.5  # seconds between two messages in one conversation (60 in 30 s)
PER_HOUR = 1800
RETRIES = 3  # 429s waited out for one message before it is given up here
MAX_RETRY_WAIT = 60.0  # seconds: a longer Retry-After is left to the outbox's back-off
DEFAULT_RETRY_WAIT = 1.0  # a 429 without Retry-After


def retry_after(exc: ClientResponseError) -> float:
    """Seconds a 429 asks to wait (Retry-After in seconds; without it, a second)."""
    headers: Any = exc.headers or {}
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_RETRY_WAIT
    except ValueError:
        return DEFAULT_RETRY_WAIT


class TeamsPace:
    """Slots to send in, per conversation (one per event loop)."""

    def __init__(self, interval: float = PER_MESSAGE, size: int = 10_000) -> None:
        self.pacer = Pacer(interval, size)
        self._hourly: LRUCache[Hashable, AsyncLimiter] = LRUCache(maxsize=size)

    async def call(self, conversation: str, send: Callable[[], Awaitable[T]]) -> T:
        """`send` in the conversation's turn, a 429 waited out as Teams asks."""
        hourly = self._hourly.get(conversation)
        if hourly is None:
            hourly = self._hourly[conversation] = AsyncLimiter(PER_HOUR, 3600)
        for attempt in range(RETRIES + 1):
            await hourly.acquire()
            async with self.pacer.slot(conversation):
                try:
                    return await send()
                except ClientResponseError as exc:
                    wait = retry_after(exc)
                    if exc.status != 429 or attempt == RETRIES or wait > MAX_RETRY_WAIT:
                        raise
                    log.info("teams: 429 from the Bot Connector; waiting %.1f s", wait)
                    await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises


def resource_id(response: Any) -> str | None:
    """The id of the activity the Bot Connector created (a ResourceResponse's id)."""
    found = getattr(response, "id", None)
    return found if isinstance(found, str) and found else None
