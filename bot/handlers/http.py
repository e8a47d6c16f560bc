"""The one HTTP server of a process: `/healthz`, `/metrics`, and each running transport's
routes (Slack's `/slack/events` in HTTP mode, Telegram's `/telegram/webhook` with a webhook),
all on PORT.

- `GET /healthz` — 200 "ok" when the database answers `SELECT 1`, 503 otherwise; 200
  "degraded: …" while a platform refuses the bot's token (nothing can be sent there; the
  messages wait);
- `GET /metrics` — Prometheus, served by prometheus-client's own aiohttp handler (content
  negotiation, OpenMetrics, compression), from the registry the transports count in.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.aiohttp import make_aiohttp_handler
from sqlalchemy import Engine, text

from bot.store.db import reader

log = logging.getLogger(__name__)


def database_ok(engine: Engine) -> bool:
    try:
        with reader(engine).connect() as conn:  # never waits for a writer
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("healthz: database unavailable: %s", type(exc).__name__)
        return False
    return True


def base_app(
    engine: Engine, registry: CollectorRegistry, health: dict[str, str] | None = None
) -> web.Application:
    """The routes every process serves; transports add theirs before it starts. `health`:
    transport → why nothing can be sent there (a refused token), filled by the couriers."""
    troubles = {} if health is None else health

    async def healthz(_request: web.Request) -> web.Response:
        if not await asyncio.to_thread(database_ok, engine):
            return web.Response(status=503, text="database unavailable")
        if troubles:
            said = ", ".join(
                f"{via} token refused ({why})" for via, why in sorted(troubles.items())
            )
            return web.Response(text=f"degraded: {said}")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", make_aiohttp_handler(registry))
    return app
