"""The fixed triggers (APScheduler 3.11): the sweep, the weekly digest, the daily round check
and the nightly retention job. Everything else that falls due is a row in the database.

APScheduler's own job store is the in-memory one: it is never shared between processes (its
FAQ warns against that); each instance holds the same fixed triggers, and the database
decides which instance does a given piece of work.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core import sweeps
from bot.core.app import Core
from bot.logs import log_failure

log = logging.getLogger(__name__)
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Clockwork:
    """The scheduler and the jobs it set off. `stop` lets the job under way finish: a sweep
    finishes its current task and releases the others it leased, so that a process started
    right after runs them at once instead of waiting for their lease to end."""

    def __init__(self, core: Core, *, sweep_seconds: int) -> None:
        self.core = core
        self.stopping = threading.Event()  # seen by the sweep in its worker thread
        self._running: set[asyncio.Future[Any]] = set()
        self.scheduler = self._build(sweep_seconds)

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, *, timeout: float = 30.0) -> None:
        self.stopping.set()
        self.scheduler.shutdown(wait=False)
        if self._running:
            _, late = await asyncio.wait(self._running, timeout=timeout)
            if late:
                log.warning("scheduler: %d jobs did not finish in time", len(late))

    def _job(self, fn: Callable[[Core], Any], name: str) -> Callable[[], Any]:
        async def run() -> None:
            if self.stopping.is_set():
                return
            work = asyncio.ensure_future(asyncio.to_thread(fn, self.core))
            self._running.add(work)
            try:
                await work
            except Exception as exc:  # never the text: it may quote personal data
                log_failure(log, "scheduled job %s failed", name, exc=exc)
            finally:
                self._running.discard(work)

        return run

    def _build(self, sweep_seconds: int) -> AsyncIOScheduler:
        rules = self.core.region.schedule
        scheduler = AsyncIOScheduler(timezone=self.core.region.tz)
        job = self._job

        def sweep(core: Core) -> int:
            return sweeps.run_sweep(core, self.stopping)

        common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        scheduler.add_job(
            job(sweep, "sweep"), IntervalTrigger(seconds=sweep_seconds), id="sweep", **common
        )
        scheduler.add_job(
            job(sweeps.run_digest, "digest"),
            CronTrigger(
                day_of_week=DAYS[rules.digest_weekday],
                hour=rules.digest_time.hour,
                minute=rules.digest_time.minute,
            ),
            id="digest",
            **common,
        )
        scheduler.add_job(
            job(sweeps.run_rounds, "rounds"), CronTrigger(hour=9, minute=0), id="rounds", **common
        )
        scheduler.add_job(
            job(sweeps.run_retention, "retention"),
            CronTrigger(hour=3, minute=15),
            id="retention",
            **common,
        )
        return scheduler
