"""Pacing per chat: at most one message per `interval` seconds in each chat, in order.

Platforms limit how fast a bot may post in one chat (Slack: about one message a second per
channel; Telegram: one a second per chat, twenty a minute per group). Each chat gets an
`aiolimiter.AsyncLimiter` (the leaky bucket python-telegram-bot's rate limiter builds on)
with room for one message, and a lock held while the message is sent, so that a slow send is
never overtaken by the next message for the same chat. A send that outlasted the interval (a
429 waited out inside the platform's client) takes the limiter again as it ends, so the next
message still waits a whole interval after it. Chats do not wait for each other. The
quietest chats are forgotten first, so the memory stays bounded however many chats there are.

`Window` is the other shape a platform's limit takes: at most so many in any so many seconds
(Telegram's twenty a minute in a group, Teams' seven a second in a conversation).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiolimiter import AsyncLimiter
from cachetools import LRUCache


class Window:
    """At most `rate` events in any `period` seconds (a sliding window)."""

    def __init__(self, rate: int, period: float) -> None:
        self.period = period
        self._times: deque[float] = deque(maxlen=rate)

    def wait(self, now: float) -> float:
        """Seconds until one more may happen (0: now)."""
        if len(self._times) < (self._times.maxlen or 0):
            return 0.0
        return max(0.0, self._times[0] + self.period - now)

    def take(self, now: float) -> None:
        self._times.append(now)


@dataclass
class _Chat:
    limiter: AsyncLimiter
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Pacer:
    """Hands out the slots to send in, chat by chat. One per event loop (like its limiters)."""

    def __init__(self, interval: float = 1.0, size: int = 10_000) -> None:
        self.interval = interval
        self._chats: LRUCache[Hashable, _Chat] = LRUCache(maxsize=size)

    @asynccontextmanager
    async def slot(self, chat: Hashable) -> AsyncIterator[None]:
        """Send one message inside this: it starts when the chat's previous one is done and
        `interval` has passed since that one started (or, for a slow one, since it ended)."""
        state = self._chats.get(chat)
        if state is None:
            state = self._chats[chat] = _Chat(AsyncLimiter(1, self.interval))
        async with state.lock:
            await state.limiter.acquire()
            try:
                yield
            finally:
                if state.limiter.has_capacity():  # the send outlasted the interval
                    await state.limiter.acquire()  # without waiting: the bucket is empty
