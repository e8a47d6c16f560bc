"""Running the Telegram bot: its command lists, long polling or a webhook, and delivery.

At start: getMe (the Application's initialize), setMyCommands with every list of
`commands.command_lists()`, and the bot's username stored for invite links
(`bot.core.invites`). Then:

- long polling by default (the Updater's getUpdates);
- with TELEGRAM_WEBHOOK_URL: setWebhook with TELEGRAM_WEBHOOK_SECRET, and
  `POST /telegram/webhook` on the process's one HTTP server (`bot.handlers.http`, shared with
  Slack). An update without the right X-Telegram-Bot-Api-Secret-Token is refused with 401
  before it is read, and changes nothing.

Every two seconds the outbox is delivered to the people Telegram reaches (`common.reach`).
Every update is recorded before Telegram is told it arrived (`inbox`); what is recorded and
not handled (the process was killed right after) is handed on again: at start, and every
`REPLAY_SECONDS` what another instance left.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from datetime import timedelta

from aiohttp import web

from bot.config import Settings
from bot.core import clock
from bot.core.app import Core
from bot.core.invites import remember_bot_username
from bot.handlers.common.delivery import DELIVERY_SECONDS, Delivery
from bot.handlers.common.reach import TELEGRAM, address_on, reach_of
from bot.handlers.telegram import failures, inbox
from bot.handlers.telegram.app import TRANSPORT, TelegramBot
from bot.handlers.telegram.commands import command_lists
from bot.handlers.telegram.updates import RecordingBot
from bot.logs import log_failure

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
POLL_TIMEOUT = 10.0  # seconds a getUpdates waits on Telegram's side
REPLAY_SECONDS = 5.0  # how often recorded updates nobody handled are looked for
PRUNE_SECONDS = 3600.0  # how often handled updates older than a day are forgotten


def webhook_route(bot: TelegramBot, secret: str) -> web.RouteDef:
    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):  # before anything is read
            log.info("telegram: a webhook request without the right secret was refused")
            return web.Response(status=401, text="invalid secret")
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="malformed update")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400, text="malformed update")
        try:
            await bot.process(data)  # recorded before the 200: Telegram never sends it again
        except Exception as exc:  # the database is away: Telegram sends it again later
            log_failure(log, "telegram: an update could not be recorded yet", exc=exc)
            return web.Response(status=503, text="try again")
        return web.Response(text="")

    return web.post(WEBHOOK_PATH, webhook)


class TelegramTransport:
    """Telegram for the lifetime of `serving.serve`."""

    name = TELEGRAM

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        running: frozenset[str],
        delivery_seconds: float = DELIVERY_SECONDS,
        poll_timeout: float = POLL_TIMEOUT,
        health: dict[str, str] | None = None,
    ) -> None:
        if settings.telegram_webhook_url and settings.telegram_webhook_secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET")
        self.core = core
        self.settings = settings
        self.running = running
        self.delivery_seconds = delivery_seconds
        self.poll_timeout = poll_timeout
        self.bot = TelegramBot(core, settings)
        self.delivery = Delivery(TRANSPORT)
        self.health = {} if health is None else health  # shared with /healthz
        self.started = False
        self.began = clock.now()  # updates recorded before this were left by an earlier process
        self.replaying: asyncio.Task[None] | None = None

    @property
    def secret(self) -> str | None:
        secret = self.settings.telegram_webhook_secret
        return secret.get_secret_value() if secret else None

    async def start(self) -> None:
        app = self.bot.app
        await app.initialize()  # getMe
        await asyncio.to_thread(remember_bot_username, self.core.engine, self.bot.username)
        for listed in command_lists():
            await app.bot.set_my_commands(
                listed.commands, scope=listed.scope, language_code=listed.language_code
            )
        await app.start()
        self.started = True

    def routes(self) -> list[web.RouteDef]:
        secret = self.secret
        if not self.settings.telegram_webhook_url or secret is None:
            return []
        return [webhook_route(self.bot, secret)]

    async def go_live(self) -> None:
        app = self.bot.app
        if self.settings.telegram_webhook_url:
            await app.bot.set_webhook(self.settings.telegram_webhook_url, secret_token=self.secret)
            log.info("telegram: webhook set")
        else:
            assert app.updater is not None
            if isinstance(app.bot, RecordingBot):
                app.bot.record_with(self.bot.record)
            await app.bot.delete_webhook()
            await app.updater.start_polling(
                timeout=timedelta(seconds=self.poll_timeout), poll_interval=0.0
            )
            log.info("telegram: long polling")
        self.delivery.start(
            self.core.engine,
            address_of=address_on(TELEGRAM, self.running),
            send=self.bot.send,
            edit=self.bot.edit,
            interval=self.delivery_seconds,
            reach=reach_of(self.core, self.running, failures.judge, self.health),
        )
        self.replaying = asyncio.create_task(self._replay(), name="telegram:replay")

    async def _replay(self) -> None:
        """Hand on again what is recorded and not handled: at once what an earlier process
        left, then every REPLAY_SECONDS what was left longer than `inbox.GRACE`."""
        recorded_before = self.began
        next_prune = 0.0
        while True:
            try:
                left = await asyncio.to_thread(
                    inbox.waiting, self.core.engine, recorded_before=recorded_before
                )
                if left:
                    log.info("telegram: %d recorded updates handed on again", len(left))
                for data in left:
                    await self.bot.hand_on(data)
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_SECONDS
                    await asyncio.to_thread(inbox.prune, self.core.engine)
            except Exception as exc:  # the database is away: the next round tries again
                log_failure(log, "telegram: looking for recorded updates failed", exc=exc)
            await asyncio.sleep(REPLAY_SECONDS)
            recorded_before = clock.now() - inbox.GRACE

    async def stop(self) -> None:
        if self.replaying is not None:
            self.replaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.replaying
        await self.delivery.stop()
        await self.bot.sender.flush()  # the edits still waiting for their turn
        app = self.bot.app
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        await self.bot.first.stop()  # the presses being answered first
        if self.started:
            await app.stop()
        await app.shutdown()
