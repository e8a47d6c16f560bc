"""Telegram's pace: how fast the bot may call the Bot API, and who goes first.

Telegram's limits (core.telegram.org/bots/faq, "My bot is hitting limits"): about one message
a second in a chat, twenty a minute in a group, thirty a second overall; over them it answers
429 (RetryAfter). python-telegram-bot's AIORateLimiter keeps the group and overall limits but
not the one a second per private chat, and serves everyone first come, first served: a broker's
own answer to /cases waited behind every notice the outbox had queued for others.

`TelegramPace` (a python-telegram-bot rate limiter) keeps all three, as the platform sees them:

- in a chat, one call at a time, in turn; a new message (send…, copy…, forward…) starts no
  sooner than `PRIVATE_INTERVAL` after the previous new message there was answered, so that
  Telegram receives them at least that far apart (an edit or a chat action does not count);
- in a group (a negative chat id), at most `GROUP_RATE` calls in any `GROUP_PERIOD`;
- overall, at most `OVERALL_RATE` new messages in any `OVERALL_PERIOD` (Telegram's thirty
  messages a second; counting a Claim's card edit too held twenty brokers' replies back a
  second);
- a call without a chat (answerCallbackQuery, getUpdates, getMe) is not paced: the presser's
  button stops spinning at once;
- two priorities: what answers the person who is waiting (a reply to their command or button)
  goes before what the outbox delivers (a call whose `rate_limit_args` says `OUTBOX`: notices
  to others; the sender says so for what the outbox hands it), in its chat
  and overall; within a priority, first come, first served;
- a 429 holds every paced call for its retry_after (and a tenth of a second), then the call
  is tried again, at most `RETRIES` times; after that it raises and the outbox tries later.

Calls wait in one list, ordered by priority and arrival; whenever a call is answered, one
arrives, or the earliest wait is over, the list is walked once and whoever may go goes.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cachetools import LRUCache
from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.handlers.common.pacing import Window

log = logging.getLogger(__name__)

OWN = 0  # a reply to the person who is waiting for it
NOTICE = 1  # the outbox's delivery: notices to others, sent when there is room

PRIVATE_INTERVAL = 1.0  # seconds between new messages in one chat
GROUP_RATE, GROUP_PERIOD = 20, 60.0  # calls in a group per period (seconds)
OVERALL_RATE, OVERALL_PERIOD = 30, 1.0  # new messages per period (seconds), in all chats
RETRIES = 3  # a 429 waited out this often
CHATS = 10_000  # chats remembered (the quietest forgotten first)

Clock = Callable[[], float]
ApiCall = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]


@dataclass
class _Chat:
    group: Window | None
    busy: bool = False
    last_message: float = -math.inf  # when the last new message here was answered


@dataclass(order=True)
class _Call:
    priority: int
    seq: int
    chat: _Chat = field(compare=False)
    new_message: bool = field(compare=False)
    granted: asyncio.Future[None] = field(compare=False)


def new_message(endpoint: str) -> bool:
    """Whether a Bot API method posts a new message in its chat."""
    return endpoint.startswith(("send", "copy", "forward")) and endpoint != "sendChatAction"


def chat_of(data: JSONDict) -> int | str | None:
    """The chat a call is in (a number, or a @username), None when it has none."""
    chat = data.get("chat_id")
    if chat is None:
        return None
    try:
        return int(chat)
    except (TypeError, ValueError):
        return str(chat)


class Paced(NamedTuple):
    """What a call tells the pacer (python-telegram-bot's `rate_limit_args`)."""

    notice: bool = False  # the outbox's delivery: after the answers people are waiting for
    retries: int | None = None  # a 429 waited out this often (default: the pacer's)


OUTBOX = Paced(notice=True)


class TelegramPace(BaseRateLimiter[Paced]):
    """Telegram's limits and the two priorities (see the module). One per bot and event loop."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        private_interval: float | None = None,
        overall_rate: int | None = None,
        overall_period: float | None = None,
        group_rate: int | None = None,
        group_period: float | None = None,
        retries: int = RETRIES,
    ) -> None:
        self.clock = clock
        self.private_interval = PRIVATE_INTERVAL if private_interval is None else private_interval
        self._overall = Window(
            OVERALL_RATE if overall_rate is None else overall_rate,
            OVERALL_PERIOD if overall_period is None else overall_period,
        )
        self.group_rate = GROUP_RATE if group_rate is None else group_rate
        self.group_period = GROUP_PERIOD if group_period is None else group_period
        self.retries = retries
        self._chats: LRUCache[int | str, _Chat] = LRUCache(maxsize=CHATS)
        self._waiting: list[_Call] = []
        self._seq = itertools.count()
        self._held_until = -math.inf  # a 429 holds every paced call until then
        self._timer: asyncio.TimerHandle | None = None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    async def process_request(
        self,
        callback: ApiCall,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Paced | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat = chat_of(data)
        if chat is None:
            return await callback(*args, **kwargs)
        state = self._chats.get(chat)
        if state is None:
            group = Window(self.group_rate, self.group_period) if _is_group(chat) else None
            state = self._chats[chat] = _Chat(group)
        paced = rate_limit_args or Paced()
        priority = NOTICE if paced.notice else OWN
        seq = next(self._seq)  # a retry keeps its place
        retries = self.retries if paced.retries is None else paced.retries
        for attempt in itertools.count():
            call = _Call(priority, seq, state, new_message(endpoint), _future())
            await self._turn(call)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= retries:
                    log.warning("telegram: still rate limited after %d tries", attempt + 1)
                    raise
                wait = exc.retry_after
                seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                log.info("telegram: rate limited; every send waits %.1f s", seconds)
                self._held_until = max(self._held_until, self.clock() + seconds + 0.1)
            finally:
                self._done(call)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _turn(self, call: _Call) -> None:
        bisect.insort(self._waiting, call)
        self._walk()
        try:
            await call.granted
        except asyncio.CancelledError:
            if call in self._waiting:
                self._waiting.remove(call)  # never let go: nothing to give back
                self._walk()
            else:
                self._done(call)  # let go as it was cancelled: its turn is over
            raise

    def _done(self, call: _Call) -> None:
        if not call.granted.done() or not call.chat.busy:
            return
        call.chat.busy = False
        if call.new_message:
            call.chat.last_message = self.clock()
        self._walk()

    def _walk(self) -> None:
        """Let go whoever may go now, best first; wake again when the earliest wait is over."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = self.clock()
        passed: set[int] = set()  # chats whose first waiting call was looked at
        soonest = math.inf
        for call in list(self._waiting):
            if id(call.chat) in passed:
                continue  # its chat's earlier call waits: it keeps its turn
            passed.add(id(call.chat))
            wait = max(self._held_until - now, self._chat_wait(call, now))
            if call.new_message:  # the best waiting goes first when the overall rate allows
                wait = max(wait, self._overall.wait(now))
            if wait > 0:
                soonest = min(soonest, wait)
                continue
            self._waiting.remove(call)
            call.chat.busy = True
            if call.new_message:
                self._overall.take(now)
            if call.chat.group is not None:
                call.chat.group.take(now)
            call.granted.set_result(None)
        if self._waiting and soonest < math.inf:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(soonest, self._walk)

    def _chat_wait(self, call: _Call, now: float) -> float:
        chat = call.chat
        if chat.busy:
            return math.inf  # until its call is answered (which walks again)
        wait = 0.0
        if call.new_message:
            wait = chat.last_message + self.private_interval - now
        if chat.group is not None:
            wait = max(wait, chat.group.wait(now))
        return wait


def _is_group(chat: int | str) -> bool:
    """Groups, supergroups and channels have negative ids (or a @username)."""
    return isinstance(chat, str) or chat < 0


def _future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()
