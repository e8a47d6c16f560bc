"""One process, every configured transport: Slack, Telegram, Teams, or any of them together,
with one HTTP server (`http`: /healthz, /metrics and the transports' routes on PORT), one
outbox (each transport delivers to the people it reaches, `common.reach`) and, around it, one
scheduler (`bot.cli.app`).

The HTTP server runs when a transport has routes (Slack in HTTP mode, Telegram with a
webhook) or Telegram runs (its /healthz and /metrics); Slack in Socket Mode alone needs none.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry

from bot.config import Settings
from bot.core import drawing
from bot.core.app import Core
from bot.handlers.common.delivery import DELIVERY_SECONDS
from bot.handlers.common.reach import TELEGRAM, running_transports
from bot.handlers.http import base_app

log = logging.getLogger(__name__)
# The worker threads that do the core's (database) work. Python runs one of them at a time:
# with 32, twenty requests at once were twenty threads taking turns at the interpreter, each
# turn a switch, and each request waited behind all of them (reply p50 at 100,000 cases
# 135-167 ms; with 8: 115-120 ms, and an eighth less CPU). Eight still leave room for a few
# writers waiting for SQLite's write lock during a long write (a big file's import) while
# the others answer; on PostgreSQL nothing waits that long.
WORKER_THREADS = 8
# glibc gives each thread that allocates a malloc arena of its own (up to eight per core),
# and an arena keeps what was freed in it: with 32 worker threads the server grew by some
# 10-15 MB over 10,000 requests that way. Two arenas serve the few threads that run at once
# (Python runs one at a time); MALLOC_ARENA_MAX, when set, still decides.
MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # (glibc's mallopt parameter)


class Transport(Protocol):
    name: str

    async def start(self) -> None: ...
    def routes(self) -> list[web.RouteDef]: ...
    async def go_live(self) -> None: ...
    async def stop(self) -> None: ...


async def serve(
    core: Core,
    settings: Settings,
    *,
    stop: asyncio.Event,
    host: str = "0.0.0.0",
    delivery_seconds: float = DELIVERY_SECONDS,
    poll_timeout: float | None = None,
    charts_in_worker: bool = False,
) -> None:
    """Run the configured transports until `stop` is set. `charts_in_worker`: draw each
    chart in a short-lived process (`drawing`), as a long-running server does (`vangnet run`);
    a test that serves for a moment draws them itself."""
    # database work runs in worker threads; a few of them may wait for a long write (SQLite)
    # while the others go on answering
    limit_malloc_arenas()
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="vangnet")
    )
    # charts in a worker process each: matplotlib never stays in the server (`drawing`)
    drawing.use_worker(charts_in_worker)
    running = running_transports(
        slack=settings.slack_enabled,
        telegram=settings.telegram_enabled,
        teams=settings.teams_enabled,
    )
    registry = CollectorRegistry()
    health: dict[str, str] = {}  # transport → why nothing can be sent there (/healthz)
    transports: list[Transport] = []
    runner: web.AppRunner | None = None
    try:
        if settings.slack_enabled:
            from bot.handlers.slack.server import SlackTransport
            from bot.handlers.slack.services import Metrics

            transports.append(
                SlackTransport(
                    core,
                    settings,
                    metrics=Metrics(registry),
                    running=running,
                    delivery_seconds=delivery_seconds,
                    health=health,
                )
            )
        if settings.telegram_enabled:
            from bot.handlers.telegram.server import POLL_TIMEOUT, TelegramTransport

            transports.append(
                TelegramTransport(
                    core,
                    settings,
                    running=running,
                    delivery_seconds=delivery_seconds,
                    poll_timeout=POLL_TIMEOUT if poll_timeout is None else poll_timeout,
                    health=health,
                )
            )
        if settings.teams_enabled:
            from bot.handlers.teams.server import TeamsTransport

            transports.append(
                TeamsTransport(
                    core,
                    settings,
                    running=running,
                    delivery_seconds=delivery_seconds,
                    health=health,
                )
            )
        for transport in transports:
            await transport.start()
        routes = [route for transport in transports for route in transport.routes()]
        if routes or TELEGRAM in running:
            app = base_app(core.engine, registry, health)
            app.add_routes(routes)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, host, settings.port).start()
            log.info("http: serving on %s:%d", host, settings.port)
        for transport in transports:
            await transport.go_live()
        settle_garbage_collector()
        await stop.wait()
    finally:
        gc.unfreeze()  # (a test's process goes on: what it froze may be collected again)
        drawing.use_worker(False)
        for transport in reversed(transports):
            try:
                await transport.stop()
            except Exception as exc:
                log.warning("%s: did not stop cleanly: %s", transport.name, type(exc).__name__)
        if runner is not None:
            await runner.cleanup()


def settle_garbage_collector() -> None:
    """What the start made (modules, the region, SQLAlchemy's mappings: some 170,000 objects)
    lives as long as the process: kept out of the garbage collector's full collections
    (`gc.freeze`), which otherwise walked all of it and stopped every thread, the event loop
    too, for 70-100 ms now and then while requests were answered."""
    gc.collect()
    gc.freeze()


def limit_malloc_arenas() -> None:
    """At most `MALLOC_ARENAS` malloc arenas (glibc), set before the worker threads start.
    Elsewhere (another C library) nothing."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):  # not glibc
        return
