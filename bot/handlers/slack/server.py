"""Running the Slack app: HTTP mode or Socket Mode, and the outbox delivery loop.

HTTP mode (no SLACK_APP_TOKEN): an aiohttp server on PORT with
- `POST /slack/events` — events, slash commands and interactivity: Slack's `ssl_check` is
  answered 200 at once (unsigned, as bolt does); then the signature is checked (401 for a
  missing or bad one, or a timestamp older than 5 minutes) and the body's shape (400); a
  slash command or a button is acknowledged at once and handed to bolt (`ACKED_HERE`): the
  work behind it is finished before a stop ends the process, and a failure of bolt's own
  dispatch after the acknowledgement is told to the person (`AfterAck`); everything else goes
  through bolt for its answer;
- `GET /healthz` — 200 "ok" when the database answers `SELECT 1`, 503 otherwise ("degraded"
  while Slack refuses the token: `bot.handlers.http`);
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
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.request.async_request import AsyncBoltRequest as BoltRequest
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config import Settings
from bot.core.app import Core
from bot.core.i18n import N_, translator
from bot.core.replies import Reply
from bot.handlers.common.arrivals import ARRIVED
from bot.handlers.common.dedupe import REPLAY_KEY
from bot.handlers.common.delivery import DELIVERY_SECONDS, Delivery
from bot.handlers.common.reach import SLACK, address_on, reach_of
from bot.handlers.http import database_ok
from bot.handlers.slack import failures
from bot.handlers.slack.app import TRANSPORT, SlackBot
from bot.handlers.slack.services import Metrics, SlackServices
from bot.logs import log_failure

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
SIGNATURE_MAX_AGE = 60 * 5  # seconds: older signed requests may be replays


class Posted(NamedTuple):
    """What a signed, well-formed post is: its `kind` ("slash_command", or an interaction
    payload's type, "block_actions", "view_submission" …; None for events and for a form
    that says nothing of it), and who sent it (`asker`: for a slash command or interaction)."""

    kind: str | None
    asker: Asker | None


def read_posted(body: bytes, content_type: str) -> Posted | None:
    """The post read once, after its signature was checked; None when it is malformed: not
    UTF-8, or not an object where Slack sends one (a JSON object for events, whose `event`,
    if any, is an object; a form whose `payload`, if any, is a JSON object, a modal's
    submission with its `view`; or a plain form for slash commands)."""
    try:
        text = body.decode("utf-8")
        if content_type == "application/json":
            envelope = json.loads(text)
            ok = isinstance(envelope, dict) and isinstance(envelope.get("event", {}), dict)
            return Posted(None, None) if ok else None
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        if "payload" not in form:
            if not form:
                return None
            return Posted("slash_command" if "command" in form else None, _asker(form, None))
        payload = json.loads(form["payload"][0])
        if not isinstance(payload, dict):
            return None
        kind = payload.get("type")
        if kind in VIEW_PAYLOADS and not isinstance(payload.get("view"), dict):
            return None
        return Posted(kind if isinstance(kind, str) else None, _asker(form, payload))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


VIEW_PAYLOADS = frozenset({"view_submission", "view_closed"})


def is_ssl_check(body: bytes, content_type: str) -> bool:
    """Slack's check of the certificate (`ssl_check=1`): unsigned, answered 200 at once, as
    bolt does before it verifies a request."""
    if content_type == "application/json":
        return False
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except ValueError:
        return False
    return form.get("ssl_check") == ["1"]


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


class AfterAck:
    """The work behind the requests acknowledged before bolt ran (`ACKED_HERE`): kept until
    done, so that a stop finishes it before the process exits (`finish`), and watched, so
    that a failure of bolt's own dispatch after the acknowledgement (a button no listener
    answers any more, Slack's auth.test failing) is told to the person and logged."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot
        self.pending: set[asyncio.Task[Any]] = set()

    def start(self, request: BoltRequest, asker: Asker) -> None:
        task = asyncio.ensure_future(self._dispatch(request, asker))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _dispatch(self, request: BoltRequest, asker: Asker) -> None:
        try:
            response = await self.bot.app.async_dispatch(request)
        except Exception as exc:
            log_failure(log, "slack: failed while dispatching a request", exc=exc)
            await self._tell(asker, FAILED)
            return
        if response.status == 404:  # no listener: an old message's retired button, say
            log.warning("slack: a request no listener answers was acknowledged")
            await self._tell(asker, NO_LONGER)
        elif response.status >= 400 or response.body:  # bolt's own answer: authorization
            log.error(
                "slack: bolt refused a request after it was acknowledged (%d)", response.status
            )
            await self._tell(asker, NOT_SIGNED_IN)

    async def _tell(self, asker: Asker, message: str) -> None:
        """Only the person sees it, in their language: through the request's response_url
        (from a signed request: Slack's own address for the answer), or in their direct
        message when the request has none (a button in the App Home)."""
        try:
            who = await self.bot.who(asker.user) if asker.user else None
        except Exception:  # the directory cannot be read: the region's language
            who = None
        t = who.t if who else translator(self.bot.core.default_language)
        session = self.bot.services.session
        try:
            if asker.response_url is not None and session is not None and not session.closed:
                await AsyncWebhookClient(url=asker.response_url, session=session).send(
                    text="⚠ " + t(message), response_type="ephemeral", replace_original=False
                )
            elif asker.user is not None:
                await self.bot.sender.send_all(asker.user, [Reply(text=t(message), error=True)])
        except Exception as exc:
            log.error("slack: could not tell about a failed request: %s", type(exc).__name__)

    async def finish(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) for the work behind every acknowledgement."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (busy := self.pending | self.bot.working) and (left := deadline - loop.time()) > 0:
            await asyncio.wait(list(busy), timeout=left)
        if busy:
            log.warning(
                "slack: %d acknowledged requests were not finished before the stop", len(busy)
            )


NO_LONGER = N_("That button or command is no longer in use. Type /help to see what you can do.")
NOT_SIGNED_IN = N_("Vangnet could not sign in to Slack just now. Please try again in a minute.")
FAILED = N_("Something went wrong. Please try again later.")
# how long a stop waits for the work behind acknowledged requests
AFTER_ACK_SECONDS = 20.0


class Asker(NamedTuple):
    """Who sent an acknowledged request, and where an answer to it goes."""

    response_url: str | None
    user: str | None


def _asker(form: dict[str, list[str]], payload: dict[str, Any] | None) -> Asker:
    """The response_url and the user of a slash command (its form) or an interaction (its
    payload)."""
    if payload is not None:
        person = payload.get("user")
        url, user = (
            payload.get("response_url"),
            person.get("id") if isinstance(person, dict) else None,
        )
    else:
        url = next(iter(form.get("response_url", [])), None)
        user = next(iter(form.get("user_id", [])), None)
    return Asker(
        url if isinstance(url, str) and url.startswith(("https://", "http://")) else None,
        user if isinstance(user, str) and user else None,
    )


def events_route(bot: SlackBot, after_ack: AfterAck | None = None) -> web.RouteDef:
    """`POST /slack/events`: events, slash commands and interactivity, signature first."""
    behind = after_ack or AfterAck(bot)

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if is_ssl_check(body, request.content_type):
            return web.Response(status=200, text="")
        if not signed(
            bot.signing_secret or "", body, timestamp, signature
        ):  # before anything is parsed
            log.info("slack: a request without a valid signature was refused")
            return web.Response(status=401, text="invalid signature")
        posted = read_posted(body, request.content_type)
        if posted is None:
            log.info("slack: a signed but malformed request was refused")
            return web.Response(status=400, text="malformed request")
        key: str | None = None
        kind = posted.kind
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
            behind.start(bolt_request, posted.asker or Asker(None, None))
            return web.Response(status=200, text="")
        bolt_response = await bot.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

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
        health: dict[str, str] | None = None,
    ) -> None:
        self.core = core
        self.health = {} if health is None else health  # shared with /healthz
        self.settings = settings
        self.metrics = metrics
        self.running = running
        self.delivery_seconds = delivery_seconds
        self.services: SlackServices | None = None
        self.bot: SlackBot | None = None
        self.after_ack: AfterAck | None = None
        self.socket: AsyncSocketModeHandler | None = None
        self.delivery = Delivery(TRANSPORT)

    @property
    def http_mode(self) -> bool:
        return self.settings.slack_app_token is None

    async def start(self) -> None:
        self.services = await SlackServices.open()
        self.services.metrics = self.metrics
        self.bot = SlackBot(self.core, self.settings, services=self.services)
        self.after_ack = AfterAck(self.bot)
        if not self.http_mode:
            assert self.settings.slack_app_token is not None
            self.socket = AsyncSocketModeHandler(
                self.bot.app, self.settings.slack_app_token.get_secret_value()
            )
            await self.socket.connect_async()  # type: ignore[no-untyped-call]  # bolt: untyped
            log.info("slack: Socket Mode connected")

    def routes(self) -> list[web.RouteDef]:
        assert self.bot is not None
        return [events_route(self.bot, self.after_ack)] if self.http_mode else []

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
            reach=reach_of(self.core, self.running, failures.judge, self.health),
        )

    async def stop(self) -> None:
        if self.after_ack is not None:  # what was acknowledged is done before the exit
            await self.after_ack.finish(AFTER_ACK_SECONDS)
        await self.delivery.stop()
        if self.bot is not None:
            await self.bot.sender.flush()  # the edits still waiting for their turn
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        if self.services is not None:
            await self.services.aclose()


__all__ = ["EVENTS_PATH", "SlackTransport", "database_ok"]
