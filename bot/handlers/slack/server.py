"""Running the Slack app: HTTP mode or Socket Mode, and the outbox delivery loop.

HTTP mode (no SLACK_APP_TOKEN): an aiohttp server on PORT with
- `POST /slack/events` — events, slash commands and interactivity, through bolt, which checks
  the signature and refuses (401) a missing or bad one and a timestamp older than 5 minutes;
- `GET /healthz` — 200 "ok" when the database answers `SELECT 1`, 503 otherwise;
- `GET /metrics` — Prometheus: handled commands and sent messages, served by
  prometheus-client's own aiohttp handler (content negotiation, OpenMetrics, compression).

Socket Mode (SLACK_APP_TOKEN set): bolt's aiohttp Socket Mode handler; apps.connections.open
goes through the app's Web API client, so SLACK_API_URL is honoured there too.

Either way, every two seconds the outbox is delivered to people with a Slack id, by the shared
transport layer's delivery loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from urllib.parse import parse_qs

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, text

from bot.config import Settings
from bot.core.app import Core
from bot.handlers.common.delivery import DELIVERY_SECONDS, delivery_loop
from bot.handlers.slack.app import TRANSPORT, SlackBot
from bot.handlers.slack.services import Metrics, SlackServices

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("healthz: database unavailable: %s", type(exc).__name__)
        return False
    return True


def well_formed(body: bytes, content_type: str) -> bool:
    """UTF-8, and an object where Slack sends one: a JSON object (events), a form whose
    `payload` (if any) is a JSON object (interactivity), or a plain form (slash commands)."""
    try:
        text = body.decode("utf-8")
        if content_type == "application/json":
            return isinstance(json.loads(text), dict)
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        if "payload" in form:
            return isinstance(json.loads(form["payload"][0]), dict)
        return bool(form)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return False


def is_interaction(content_type: str) -> bool:
    """A slash command or an interaction (a form post); events come as JSON."""
    return content_type != "application/json"


def signed(verifier: SignatureVerifier, body: bytes, timestamp: str, signature: str) -> bool:
    """Signed by Slack with our secret within the last five minutes."""
    try:
        return verifier.is_valid(body, timestamp, signature)
    except ValueError:  # a timestamp that is not a number
        return False


def web_app(bot: SlackBot, engine: Engine, metrics: Metrics) -> web.Application:
    """The HTTP endpoints of Slack's HTTP mode."""

    verifier = SignatureVerifier(bot.signing_secret or "")

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not signed(verifier, body, timestamp, signature):  # before anything is parsed
            log.info("slack: a request without a valid signature was refused")
            return web.Response(status=401, text="invalid signature")
        if not well_formed(body, request.content_type):
            log.info("slack: a signed but malformed request was refused")
            return web.Response(status=400, text="malformed request")
        if is_interaction(request.content_type):
            # the same signed request sent again (a replay within Slack's five minutes) is
            # acknowledged and not processed twice, on whichever instance it arrives
            key = "request:" + hashlib.sha256(signature.encode()).hexdigest()[:48]
            if not await bot.dedupe.first_time(key):
                log.info("slack: a request that was processed already came again")
                return web.Response(status=200, text="")
        bolt_request = await to_bolt_request(request)
        bolt_response = await bot.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        if await asyncio.to_thread(database_ok, engine):
            return web.Response(text="ok")
        return web.Response(status=503, text="database unavailable")

    app = web.Application()
    app.router.add_post(EVENTS_PATH, events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", make_aiohttp_handler(metrics.registry))
    return app


async def serve(
    core: Core,
    settings: Settings,
    *,
    stop: asyncio.Event,
    host: str = "0.0.0.0",
    delivery_seconds: float = DELIVERY_SECONDS,
) -> None:
    """Run Slack (HTTP or Socket Mode) and the delivery loop until `stop` is set."""
    services = await SlackServices.open()
    runner: web.AppRunner | None = None
    socket: AsyncSocketModeHandler | None = None
    delivery: asyncio.Task[None] | None = None
    bot: SlackBot | None = None
    finished = asyncio.Event()  # ends the delivery loop however serve ends
    try:
        bot = SlackBot(core, settings, services=services)
        if settings.slack_app_token is None:
            runner = web.AppRunner(web_app(bot, core.engine, services.metrics))
            await runner.setup()
            await web.TCPSite(runner, host, settings.port).start()
            log.info("slack: HTTP mode on %s:%d%s", host, settings.port, EVENTS_PATH)
        else:
            socket = AsyncSocketModeHandler(bot.app, settings.slack_app_token.get_secret_value())
            await socket.connect_async()  # type: ignore[no-untyped-call]  # bolt: untyped
            log.info("slack: Socket Mode connected")
        delivery = asyncio.create_task(
            delivery_loop(
                core.engine,
                via=TRANSPORT,
                address_of=lambda p: p.slack_id,
                send=bot.send,
                edit=bot.edit,
                stop=finished,
                interval=delivery_seconds,
            )
        )
        await stop.wait()
    finally:
        finished.set()
        if delivery is not None:
            try:
                await asyncio.wait_for(delivery, timeout=30)
            except (TimeoutError, asyncio.CancelledError):
                log.warning("slack: the delivery loop did not finish in time")
        if bot is not None:
            await bot.sender.flush()  # the edits still waiting for their turn
        if socket is not None:
            await socket.close_async()  # type: ignore[no-untyped-call]
        if runner is not None:
            await runner.cleanup()
        await services.aclose()
