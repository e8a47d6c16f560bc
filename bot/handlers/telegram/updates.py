"""Updates from Telegram into python-telegram-bot: read whatever comes, record before the
offset moves, and come back quickly after an outage.

- `parse`: an update python-telegram-bot cannot read (a field set newer or older than it
  expects) becomes a bare update with its id, logged with its kind only. A webhook then
  answers 200 and long polling moves past it; before, the webhook answered 500 (so Telegram
  sent it again for ever) and polling asked for the same batch again and again, deaf to
  every update queued after it.
- `RecordingBot.get_updates` records the batch (`inbox.record`) before python-telegram-bot
  sees it: the Updater moves the offset past a batch as soon as it has it, and Telegram
  forgets what the offset passed. While the database cannot take them, the batch is held
  and tried again every second, and the offset stays where it was.
- An outage of the Bot API (refused connections, 5xx) is waited out here, trying every
  `OUTAGE_WAITS` seconds (at most two): the Updater's own loop waits 1.5 times longer after
  each failure, up to 30 s, so the bot came back up to half a minute after Telegram did.
- `InOrderPerChat`: updates are handled concurrently, each chat's in the order they came
  (python-telegram-bot handled one at a time, so everyone waited behind a slow command).
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from telegram import Bot, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import BaseUpdateProcessor, ExtBot

from bot.handlers.telegram.inbound import kind_of
from bot.handlers.telegram.pace import Paced
from bot.logs import log_failure

log = logging.getLogger(__name__)

# seconds between tries while the Bot API is away; the last repeats
OUTAGE_WAITS = (0.25, 0.5, 1.0, 2.0)
UPDATES_AT_ONCE = 16  # updates handled at the same time (each chat's one at a time, in order)
RECORD_RETRY = 1.0  # seconds between tries to record a batch while the database is away

Record = Callable[[Sequence[Mapping[str, Any]]], Awaitable[None]]


def parse(data: Mapping[str, Any], bot: Bot) -> Update:
    """The update as python-telegram-bot reads it, or, when it cannot, a bare update with the
    same id (handled as nothing, so whoever waits for the next one is not held up)."""
    try:
        return Update.de_json(dict(data), bot)
    except Exception as exc:
        log.warning(
            "telegram: an update (%s) python-telegram-bot cannot read was skipped (%s)",
            kind_of(data),
            type(exc).__name__,
        )
        return Update(update_id=int(data["update_id"]))


def outage_wait(failures: int) -> float:
    """Seconds to wait after the `failures`-th failed getUpdates in a row (1, 2, …)."""
    return OUTAGE_WAITS[min(max(failures, 1), len(OUTAGE_WAITS)) - 1]


class RecordingBot(ExtBot[Paced]):
    """python-telegram-bot's bot, whose getUpdates records each batch (`record_with`, set
    before polling starts) before handing it on, parses each update on its own, and waits out an
    outage of the Bot API with a short back-off."""

    _recorder: Record | None = None

    def record_with(self, record: Record) -> None:
        """Record each batch with `record` before handing it on (set before polling)."""
        self._recorder = record

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        data: JSONDict = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        # as python-telegram-bot does: a long poll's read waits `timeout` longer
        if isinstance(read_timeout, float | int):
            base = float(read_timeout)
        else:
            base = self._request[0].read_timeout or 0
        waits = timeout.total_seconds() if isinstance(timeout, dtm.timedelta) else timeout or 0
        failures = 0
        while True:
            try:
                result = await self._post(
                    "getUpdates",
                    data,
                    read_timeout=base + waits,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                    api_kwargs=api_kwargs,
                )
                break
            except (BadRequest, TimedOut):
                raise  # the Updater's loop tries a timed-out poll again at once
            except NetworkError as exc:
                failures += 1
                if failures == 1:
                    log.warning("telegram: the Bot API cannot be reached (%s)", type(exc).__name__)
                await asyncio.sleep(outage_wait(failures))
        if failures:
            log.info("telegram: the Bot API answers again after %d failed polls", failures)
        raw = [u for u in cast(list[JSONDict], result or []) if isinstance(u, dict)]
        if raw and self._recorder is not None:
            await self._record(self._recorder, raw)
        return tuple(parse(u, self) for u in raw if isinstance(u.get("update_id"), int))

    async def _record(self, record: Record, raw: Sequence[JSONDict]) -> None:
        while True:
            try:
                await record(raw)
                return
            except Exception as exc:  # the database is away: the offset stays until it is back
                log_failure(
                    log, "telegram: %d updates could not be recorded yet", len(raw), exc=exc
                )
                await asyncio.sleep(RECORD_RETRY)


class InOrderPerChat(BaseUpdateProcessor):
    """Updates handled concurrently (at most `at_once` at a time), one chat's in the order
    they came: one chat's long import or claim no longer holds up everybody else's.

    python-telegram-bot starts a task per update in the order they arrive; each takes its
    chat's turn (an asyncio.Lock, whose waiters go first come, first served) before a place
    among the `at_once`, so a chat with many updates waiting holds one place, not all."""

    def __init__(self, at_once: int = UPDATES_AT_ONCE) -> None:
        # python-telegram-bot's own bound is only a backstop: the places are counted here
        super().__init__(max_concurrent_updates=10 * at_once)
        self._places = asyncio.Semaphore(at_once)
        self._turns: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}  # chat → updates holding or waiting for its turn

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = _chat_of(update)
        if chat is None:
            async with self._places:
                await coroutine
            return
        turn = self._turns.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with turn, self._places:
                await coroutine
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat], self._turns[chat]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _chat_of(update: object) -> int | None:
    """The chat whose order an update keeps (the person's, when there is no chat)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return int(update.effective_chat.id)
    return int(update.effective_user.id) if update.effective_user is not None else None
