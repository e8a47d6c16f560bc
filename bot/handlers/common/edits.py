"""Edits of a message shown in a place, coalesced: the last state wins.

A message updated in place (a scan's count of votes) can change many times a second, faster
than a platform lets a bot edit it (about once a second per chat). Each edit waits for the
chat's pace (`pacing.Pacer`); a newer state for the same message that comes while one waits
replaces it, so only the last is sent: a few edits showing the latest count, never one per vote.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from bot.handlers.common.pacing import Pacer
from bot.logs import log_failure

log = logging.getLogger(__name__)

Edit = Callable[[], Awaitable[None]]  # sends one state of the message


@dataclass(frozen=True)
class _Waiting:
    chat: Hashable
    edit: Edit


class LatestEdits:
    """The edits waiting for their turn, message by message (`key`). One per event loop."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self._waiting: dict[str, _Waiting] = {}  # key → the latest state not yet shown
        self._showing: dict[str, asyncio.Task[None]] = {}  # key → the task showing it

    def show(self, key: str, chat: Hashable, edit: Edit) -> None:
        """Send `edit` (the message `key` in `chat` as it is now) as soon as the chat's pace
        allows; a newer state for the same key that comes meanwhile replaces it."""
        self._waiting[key] = _Waiting(chat, edit)
        running = self._showing.get(key)
        if running is None or running.done():
            self._showing[key] = asyncio.create_task(self._until_shown(key))

    async def _until_shown(self, key: str) -> None:
        try:
            while (waiting := self._waiting.pop(key, None)) is not None:
                async with self.pacer.slot(waiting.chat):
                    waiting = self._waiting.pop(key, waiting)  # what came while waiting wins
                    try:
                        await waiting.edit()
                    except Exception as exc:  # the next state may still get through
                        log_failure(log, "a message could not be updated", exc=exc)
        finally:
            self._showing.pop(key, None)

    async def flush(self) -> None:
        """Wait until every edit waiting for its turn is shown (before stopping)."""
        while self._showing:
            await asyncio.gather(*list(self._showing.values()), return_exceptions=True)
