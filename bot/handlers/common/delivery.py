"""The delivery loop: what the outbox holds, sent regularly to the people on one transport.

`bot.core.messaging.delivery.Courier` does the work (a worker per person: leasing, sending,
marking sent, retrying with back-off, edits); this looks for people with due messages every
`interval` seconds until `stop` is set. A look that fails (the database was away) is logged
and the next one tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import Engine

from bot.core.messaging.delivery import Courier, Edit, FindSent, Send
from bot.core.messaging.verdicts import Reach
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
    reach: Reach | None = None,
) -> None:
    """Send what the outbox holds for the people `address_of` finds on `via`, until `stop`.

    Every `interval` seconds (and at once when a worker ends while others wait for room) the
    courier starts workers for people with due messages; each worker goes on by itself, so
    nobody waits for this loop or for anyone else's messages. At `stop` the sends under way
    finish and what is still leased is released."""
    courier = Courier(
        engine,
        via=via,
        address_of=address_of,
        send=send,
        edit=edit,
        find_sent=find_sent,
        stop=stop,
        stalled=set(),  # failed while the platform could not be reached
        reach=reach,
    )
    while not stop.is_set():
        courier.room.clear()
        try:
            await courier.dispatch()
        except Exception as exc:  # the database was away; the next dispatch tries again
            log_failure(log, "%s: looking for messages to deliver failed", via, exc=exc)
        await _first_of(stop, courier.room, timeout=interval)
    await courier.drain()


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    """Wait until one of `events` is set, or `timeout` seconds."""
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


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
        reach: Reach | None = None,
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
                reach=reach,
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
