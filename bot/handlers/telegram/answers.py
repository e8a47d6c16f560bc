"""The press of a button answered first: its callback query is answered as soon as its
update arrives, beside the update's record and before it waits for its chat's turn
(`updates.InOrderPerChat`).

Until Telegram has the answer (answerCallbackQuery) the presser's button spins. The answer
went out from the update's handler, so it waited for everything before it: the update
recorded and taken (`inbox`: two writes, each behind the other updates' writes at SQLite's
writer gate), its chat's turn (an earlier slow update of the same chat: its whole work) and
a place among the updates handled at once (of twenty presses at once, the last four waited
for a whole Claim). With twenty Claims at once, the last button stopped spinning after
1.3 s, against 0.3-0.75 s for a bare python-telegram-bot app in the same run.

Now, when updates are recorded (`TelegramBot.record`: the webhook before its 200, long
polling before the offset moves), each callback query among them is looked at at once
(`begin`), in a task of its own, while the record is written: when its answer carries
nothing the work will say (`decide`: a known presser, a button that still works, not a
scan's mark in a group, which is how the handler answers first too) it is answered there
and then, without text. Deciding reads the presser and a stored button from the database
in a worker thread, which took 20-50 ms with twenty Claims at work; a presser found in the
directory in the last minute (`seen`, by any update of theirs) is taken to be there still,
and a button that carries its action needs no read, so most presses are decided at once.
The handler asks (`answered`) before it answers: a query answered first is not answered
again; one that was not is answered by the handler as before, with its text (the refusal to
a stranger, "that button no longer works", a failure, the presser's mark in a scan).

What is recorded does not change, nor when Telegram is told an update arrived: only after
its record (the webhook's 200, the offset). An answer is not such a sign to Telegram: if
the record fails, the webhook answers 503 and Telegram sends the update again, which is
recorded and handled then (its query is not answered twice by the same process); an
instance killed after the answer and before the work hands the update on again at its
restart, and the work is done then (a second answer to the query is refused by Telegram,
which is logged and harmless).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cachetools import LRUCache, TTLCache
from telegram import Bot
from telegram.error import TelegramError

from bot.handlers.telegram import inbound
from bot.handlers.telegram.inbound import CallbackPress
from bot.logs import log_failure

log = logging.getLogger(__name__)

QUERIES = 10_000  # queries remembered (a query whose update is never handled is forgotten)
KNOWN_SECONDS = 60.0  # how long a presser found in the directory is taken to be there still
KNOWN = 10_000  # pressers remembered so

Decide = Callable[[CallbackPress], Awaitable[bool]]


class FirstAnswers:
    """Callback queries answered as soon as they are recorded, when `decide` says their
    answer needs no text; one per bot and event loop."""

    def __init__(self, bot: Bot, decide: Decide) -> None:
        self.bot = bot
        self.decide = decide
        # query id → whether it was answered here (the task answering it, until it is asked)
        self._queries: LRUCache[str, asyncio.Task[bool]] = LRUCache(maxsize=QUERIES)
        # Telegram ids found in the directory lately (`seen`): their presses are decided
        # without a trip to the database
        self._known: TTLCache[int, None] = TTLCache(maxsize=KNOWN, ttl=KNOWN_SECONDS)

    def seen(self, user_id: int) -> None:
        """The person with this Telegram id was just found in the directory."""
        self._known[user_id] = None

    def knows(self, user_id: int) -> bool:
        """Whether they were found in the directory in the last `KNOWN_SECONDS`."""
        return user_id in self._known

    def begin(self, data: Mapping[str, Any]) -> None:
        """Look at a recorded update: a press is answered at once when it may be (a task)."""
        if "callback_query" not in data:
            return
        try:
            event = inbound.callback_query(data, "")  # (a press does not need the bot's name)
        except inbound.Malformed:
            return  # the handler says what it is, and answers it
        if not isinstance(event, CallbackPress) or event.callback_query_id in self._queries:
            return  # (a query recorded twice, a webhook's resend, is looked at once)
        self._queries[event.callback_query_id] = asyncio.create_task(
            self._answer(event), name="telegram:answer first"
        )

    async def _answer(self, event: CallbackPress) -> bool:
        try:
            if not await self.decide(event):
                return False
            await self.bot.answer_callback_query(event.callback_query_id)
            return True
        except TelegramError as exc:  # the handler answers it in its turn
            log.warning("telegram: a button could not be answered first (%s)", type(exc).__name__)
            return False
        except Exception as exc:  # the database is away: the handler answers in its turn
            log_failure(log, "telegram: whether to answer a button first is unknown", exc=exc)
            return False

    async def answered(self, query_id: str) -> bool:
        """Whether the query was answered first (waits while that is being decided)."""
        task = self._queries.get(query_id)
        return await task if task is not None else False

    async def stop(self) -> None:
        """Let the answers still going out finish (before the bot stops)."""
        going = [task for task in self._queries.values() if not task.done()]
        if going:
            await asyncio.gather(*going, return_exceptions=True)
