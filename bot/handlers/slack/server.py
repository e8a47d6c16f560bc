"""Running the Slack app: HTTP mode or Socket Mode, and the outbox delivery loop.

HTTP mode (no SLACK_APP_TOKEN): an aiohttp server on PORT with
- `POST /slack/events` — events, slash commands and interactivity: the signature is checked
  first (401 for a missing or bad one, or a timestamp older than 5 minutes); a slash command
  or a button is acknowledged at once and handed to bolt (`ACKED_HERE`), everything else goes
  through bolt for its answer;
- `GET /healthz` — 200 "ok" when the database answers `SELECT 1`, 503 otherwise;
- `GET /metrics` — Prometheus: handled commands and sent messages, served by
  prometheus-client's own aiohttp handler (content negotiation, OpenMetrics, compression).

Socket Mode (SLACK_APP_TOKEN set): bolt's aiohttp Socket Mode handler; apps.connections.open
goes through the app's Web API client, so SLACK_API_URL is honoured there too.

Either way, the outbox is delivered to the people Slack reaches (`common.reach`: one
transport per person) by the shared transport layer's delivery loop: it looks for people with
due messages every two seconds, and each such person's worker sends theirs as the channel's
pace allows.
The HTTP server itself (`bot.handlers.http`) is the process's one, shared with Telegram's
webhook; `bot.handlers.serving` runs it and every configured transport.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.response import BoltResponse

from bot.config import Settings
from bot.core.app import Core
from bot.handlers.common.arrivals import ARRIVED
from bot.handlers.common.dedupe import REPLAY_KEY
from bot.handlers.common.delivery import DELIVERY_SECONDS, Delivery
from bot.handlers.common.reach import SLACK, address_on
from bot.handlers.http import database_ok
from bot.handlers.slack.app import TRANSPORT, SlackBot
from bot.handlers.slack.services import Metrics, SlackServices
from bot.logs import log_failure

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SIGNATURE_MAX_AGE = 60 * 5  # seconds: older signed requests may be replays


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


def form_kind(body: bytes) -> str | None:
    """What a (well-formed) form post is: "slash_command", or its payload's type
    ("block_actions", "view_submission" …); None when it says nothing of it."""
    form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    if "payload" not in form:
        return "slash_command" if "command" in form else None
    kind = json.loads(form["payload"][0]).get("type")
    return kind if isinstance(kind, str) else None


# Acknowledged here, before bolt sees them: an empty 200 is all Slack waits for after a slash
# command or a button, and bolt's listener acknowledges those at once anyway; so bolt's
# dispatch (its middleware, the listener) runs after the acknowledgement, and twenty requests
# at once are all acknowledged before any of them is worked on. A modal's submission (its
# field errors travel in the acknowledgement) and events (a URL verification is answered with
# its challenge) are answered by bolt as before.
ACKED_HERE = frozenset({"slash_command", "block_actions"})


def is_interaction(content_type: str) -> bool:
    """A slash command or an interaction (a form post); events come as JSON."""
    return content_type != "application/json"


def signed(secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    """Signed by Slack with our secret (v0 HMAC-SHA256 of "v0:timestamp:body") within the last
    five minutes. On the raw bytes, so that a body that is not even UTF-8 is judged by its
    signature first (slack_sdk's SignatureVerifier decodes the body before it checks)."""
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    if not secret or age > SIGNATURE_MAX_AGE:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def events_route(bot: SlackBot) -> web.RouteDef:
    """`POST /slack/events`: events, slash commands and interactivity, signature first."""

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not signed(
            bot.signing_secret or "", body, timestamp, signature
        ):  # before anything is parsed
            log.info("slack: a request without a valid signature was refused")
            return web.Response(status=401, text="invalid signature")
        if not well_formed(body, request.content_type):
            log.info("slack: a signed but malformed request was refused")
            return web.Response(status=400, text="malformed request")
        key: str | None = None
        kind = form_kind(body) if is_interaction(request.content_type) else None
        if is_interaction(request.content_type):
            # the same signed request sent again (a replay within Slack's five minutes) is
            # acknowledged and not processed twice, on whichever instance it arrives: this
            # instance's memory answers at once; the database (other instances) is asked by
            # the listener after its acknowledgement, so the ack never waits for it
            # (a modal's submission is processed before its ack anyway: asked here)
            key = "request:" + hashlib.sha256(signature.encode()).hexdigest()[:48]
            first = bot.dedupe.first_here(key)
            if first and kind == "view_submission":
                first, key = await bot.dedupe.first_anywhere(key), None
            if not first:
                log.info("slack: a request that was processed already came again")
                return web.Response(status=200, text="")
        bolt_request = await to_bolt_request(request)
        bolt_request.context[ARRIVED] = bot.arrivals.stamp()  # before anything waits
        if key is not None:
            bolt_request.context[REPLAY_KEY] = key
        if kind in ACKED_HERE:
            dispatching = asyncio.ensure_future(bot.app.async_dispatch(bolt_request))
            after_ack.add(dispatching)
            dispatching.add_done_callback(dispatched)
            return web.Response(status=200, text="")
        bolt_response = await bot.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    after_ack: set[asyncio.Future[BoltResponse]] = set()  # kept until done (not collected)

    def dispatched(dispatching: asyncio.Future[BoltResponse]) -> None:
        after_ack.discard(dispatching)
        if dispatching.cancelled():
            return
        if (exc := dispatching.exception()) is not None:
            log_failure(log, "slack: failed while dispatching a request", exc=exc)

    return web.post(EVENTS_PATH, events)


class SlackTransport:
    """Slack for the lifetime of `serving.serve`: started, its routes, its delivery loop."""

    name = SLACK

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        metrics: Metrics,
        running: frozenset[str],
        delivery_seconds: float = DELIVERY_SECONDS,
    ) -> None:
        self.core = core
        self.settings = settings
        self.metrics = metrics
        self.running = running
        self.delivery_seconds = delivery_seconds
        self.services: SlackServices | None = None
        self.bot: SlackBot | None = None
        self.socket: AsyncSocketModeHandler | None = None
        self.delivery = Delivery(TRANSPORT)

    @property
    def http_mode(self) -> bool:
        return self.settings.slack_app_token is None

    async def start(self) -> None:
        self.services = await SlackServices.open()
        self.services.metrics = self.metrics
        self.bot = SlackBot(self.core, self.settings, services=self.services)
        if not self.http_mode:
            assert self.settings.slack_app_token is not None
            self.socket = AsyncSocketModeHandler(
                self.bot.app, self.settings.slack_app_token.get_secret_value()
            )
            await self.socket.connect_async()  # type: ignore[no-untyped-call]  # bolt: untyped
            log.info("slack: Socket Mode connected")

    def routes(self) -> list[web.RouteDef]:
        assert self.bot is not None
        return [events_route(self.bot)] if self.http_mode else []

    async def go_live(self) -> None:
        assert self.bot is not None
        if self.http_mode:
            log.info("slack: HTTP mode on port %d%s", self.settings.port, EVENTS_PATH)
        self.delivery.start(
            self.core.engine,
            address_of=address_on(SLACK, self.running),
            send=self.bot.send,
            edit=self.bot.edit,
            find_sent=self.bot.find_sent,
            interval=self.delivery_seconds,
        )

    async def stop(self) -> None:
        await self.delivery.stop()
        if self.bot is not None:
            await self.bot.sender.flush()  # the edits still waiting for their turn
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        if self.services is not None:
            await self.services.aclose()


async def serve(
    core: Core,
    settings: Settings,
    *,
    stop: asyncio.Event,
    host: str = "0.0.0.0",
    delivery_seconds: float = DELIVERY_SECONDS,
) -> None:
    """Run every configured transport (Slack, and Telegram when it is configured too) until
    `stop` is set: see `bot.handlers.serving.serve`."""
    from bot.handlers.serving import serve as serve_all

    await serve_all(core, settings, stop=stop, host=host, delivery_seconds=delivery_seconds)


__all__ = ["EVENTS_PATH", "SlackTransport", "database_ok", "serve"]
