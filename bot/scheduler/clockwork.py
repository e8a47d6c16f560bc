"""The fixed triggers (APScheduler 3.11): the sweep, the weekly digest, the daily round check
and the nightly retention job. Everything else that falls due is a row in the database.

APScheduler's own job store is the in-memory one: it is never shared between processes (its
FAQ warns against that); each instance holds the same fixed triggers, and the database
decides which instance does a given piece of work.
"""

from __future__ import annotations

import asyncio
import logging
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


def build_scheduler(core: Core, *, sweep_seconds: int) -> AsyncIOScheduler:
    rules = core.region.schedule
    scheduler = AsyncIOScheduler(timezone=core.region.tz)

    def job(fn: Callable[[Core], Any], name: str) -> Callable[[], Any]:
        async def run() -> None:
            try:
                await asyncio.to_thread(fn, core)
            except Exception as exc:  # never the text: it may quote personal data
                log_failure(log, "scheduled job %s failed", name, exc=exc)

        return run

    common: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        job(sweeps.run_sweep, "sweep"), IntervalTrigger(seconds=sweep_seconds), id="sweep", **common
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
