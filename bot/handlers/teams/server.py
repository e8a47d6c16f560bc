"""Serving Teams: `POST /api/messages` on the process's one HTTP server, and delivery.

A request is read in this order, and answered at the first thing that fails:

1. its bearer token (`trust`): 401, and nothing of the request is processed or stored;
2. its body: not JSON, not an activity the SDK can read (a malformed timestamp, say), or
   without type and conversation: 400;
3. its activity id, taken once (`common.dedupe`, namespace "teams:"): the Bot Connector
   delivers an activity again when it was not acknowledged in time; a delivery seen before
   is acknowledged (200) and not processed again;
4. the activity handed to the Agents SDK's CloudAdapter with the verified claims, and the
   agent (`app.TeamsBot`) runs; an invoke's answer is returned, anything else gets 202.

Every two seconds the outbox is delivered to the people Teams reaches (`common.reach`).
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import ClaimsIdentity
from pydantic import ValidationError

from bot.config import Settings
from bot.core.app import Core
from bot.handlers.common.dedupe import Dedupe, SeenEvents, SharedSeenEvents
from bot.handlers.common.delivery import DELIVERY_SECONDS, Delivery
from bot.handlers.common.reach import TEAMS, address_on, reach_of
from bot.handlers.teams import failures
from bot.handlers.teams.app import TeamsBot
from bot.handlers.teams.trust import Refused, Trust
from bot.logs import log_failure

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
MAX_BODY = 1024 * 1024  # bytes of an activity (a card's submit stays far below)


def _activity(data: Any) -> Activity | None:
    if not isinstance(data, dict):
        return None
    try:
        activity = Activity.model_validate(data)
    except (ValidationError, ValueError, TypeError):
        return None
    if not activity.type or not activity.conversation or not activity.conversation.id:
        return None
    if not activity.service_url:
        return None
    return activity


def messages_route(bot: TeamsBot, trust: Trust, dedupe: Dedupe) -> web.RouteDef:
    async def messages(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="too large")
        raw = await request.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        service_url = data.get("serviceUrl") if isinstance(data, dict) else None
        channel_id = data.get("channelId") if isinstance(data, dict) else None
        try:
            claims = await trust.claims(
                request.headers.get("Authorization"),
                service_url=service_url if isinstance(service_url, str) else "",
                channel_id=channel_id if isinstance(channel_id, str) else "",
            )
        except Refused as why:
            log.info("teams: a request was refused: %s", why)
            return web.Response(status=401, text="unauthorized")
        activity = _activity(data)
        if activity is None:
            return web.Response(status=400, text="malformed activity")
        if activity.id:
            assert activity.conversation is not None
            key = f"{activity.conversation.id}|{activity.id}"
            if not await dedupe.first_time(key):
                log.info("teams: an activity delivered again; not processed twice")
                return web.Response(status=200, text="")
        identity = ClaimsIdentity(claims, "Bearer", security_token=None)
        try:
            invoke = await bot.adapter.process_activity(identity, activity, bot.on_turn)
        except PermissionError:
            return web.Response(status=401, text="unauthorized")
        except Exception as exc:  # on_turn_error told the person; the connector need not retry
            log_failure(log, "teams: an activity could not be processed", exc=exc)
            return web.Response(status=500, text="failed")
        if activity.type == "invoke":
            status = invoke.status if invoke and invoke.status else HTTPStatus.NOT_IMPLEMENTED
            body = invoke.body if invoke else None
            return web.json_response(body, status=int(status))
        return web.Response(status=202, text="")

    return web.post(MESSAGES_PATH, messages)


class TeamsTransport:
    """Teams for the lifetime of `serving.serve`."""

    name = TEAMS

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        running: frozenset[str],
        delivery_seconds: float = DELIVERY_SECONDS,
        health: dict[str, str] | None = None,
    ) -> None:
        if not settings.teams_enabled:
            raise ValueError("TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID go together")
        assert settings.teams_app_id is not None and settings.teams_tenant_id is not None
        self.core = core
        self.running = running
        self.delivery_seconds = delivery_seconds
        self.health = {} if health is None else health
        self.bot = TeamsBot(core, settings)
        self.trust = Trust(settings.teams_app_id, settings.teams_tenant_id)
        self.dedupe = Dedupe(SeenEvents(), SharedSeenEvents(core.engine, namespace="teams:"))
        self.delivery = Delivery(TEAMS)

    async def start(self) -> None:
        return None

    def routes(self) -> list[web.RouteDef]:
        return [messages_route(self.bot, self.trust, self.dedupe)]

    async def go_live(self) -> None:
        self.delivery.start(
            self.core.engine,
            address_of=address_on(TEAMS, self.running),
            send=self.bot.send,
            edit=self.bot.edit,
            interval=self.delivery_seconds,
            reach=reach_of(self.core, self.running, failures.judge, self.health),
        )

    async def stop(self) -> None:
        await self.delivery.stop()
        await self.bot.flush()  # the card updates still waiting for their turn
