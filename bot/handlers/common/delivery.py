"""The delivery loop: what the outbox holds, sent regularly to the people on one transport.

`bot.core.messaging.delivery.deliver_pending` does one round (leasing, sending, marking sent,
retrying with back-off, edits); this runs rounds every `interval` seconds until `stop` is set.
A round that fails as a whole (the database was away) is logged and the next one tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import Engine

from bot.core.messaging.delivery import Edit, FindSent, Send, deliver_pending
from bot.logs import log_failure
from bot.store.models import Person

log = logging.getLogger(__name__)

DELIVERY_SECONDS = 2.0


async def delivery_loop(
    engine: Engine,
    *,
    via: str,
    address_of: Callable[[Person], str | None],
    send: Send,
    edit: Edit | None = None,
    find_sent: FindSent | None = None,
    stop: asyncio.Event,
    interval: float = DELIVERY_SECONDS,
) -> None:
    """Send what the outbox holds for the people `address_of` finds on `via`, until `stop`.

    Messages sent but not yet recorded (the database was away) are kept here between rounds;
    a stop half-way through a round releases what that round leased."""
    unconfirmed: dict[int, str | None] = {}
    stalled: set[int] = set()  # failed while the platform could not be reached
    while not stop.is_set():
        try:
            await deliver_pending(
                engine,
                via=via,
                address_of=address_of,
                send=send,
                edit=edit,
                unconfirmed=unconfirmed,
                stalled=stalled,
                stop=stop,
                find_sent=find_sent,
            )
        except Exception as exc:  # the database was away; the next round tries again
            log_failure(log, "%s: delivery round failed", via, exc=exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


class Delivery:
    """One transport's delivery loop as a background task: started when the transport goes
    live, stopped when it stops (the round under way finishes or releases what it leased)."""

    def __init__(self, via: str) -> None:
        self.via = via
        self.finished = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(
        self,
        engine: Engine,
        *,
        address_of: Callable[[Person], str | None],
        send: Send,
        edit: Edit | None = None,
        find_sent: FindSent | None = None,
        interval: float = DELIVERY_SECONDS,
    ) -> None:
        self.task = asyncio.create_task(
            delivery_loop(
                engine,
                via=self.via,
                address_of=address_of,
                send=send,
                edit=edit,
                find_sent=find_sent,
                stop=self.finished,
                interval=interval,
            )
        )

    async def stop(self, *, timeout: float = 30.0) -> None:
        self.finished.set()
        if self.task is None:
            return
        try:
            await asyncio.wait_for(self.task, timeout=timeout)
        except (TimeoutError, asyncio.CancelledError):
            log.warning("%s: the delivery loop did not finish in time", self.via)
