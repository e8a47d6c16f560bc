"""The Slack app: slack-bolt's AsyncApp with thin listeners around the core.

Every listener acknowledges first (Slack waits three seconds) and then does the work: it
translates the payload (`inbound`) into what was asked and where, and hands it to the reply
plan (`common.plan`), which finds who is speaking (`common.who`), calls the core in a worker
thread (`common.calls`) and decides where each reply goes; `carrier` carries that out on
Slack (an ephemeral answer, the direct message, a post or edit in a channel, a modal) and
`render` and `sending` draw and send it. A direct message, a CSV file sent in one (`files`)
and a submitted modal are answered in the direct message; the App Home shows what the person
would ask first.

Whatever the bot posts obeys the shared privacy rule (`common.privacy`, applied in `sending`):
a personal reply is never posted outside a direct message.

Two exceptions to "ack first": a modal's submission (intake, placement, correction, a new
person) is checked before the ack, because field errors travel in the ack itself; and
`/leaver`, `/placed REF`, `/edit REF`, the Placement button and `/admin add` open their modal
right after the ack (`modals`).

Slack's retries of an event and replays of a request are let through once on any instance
(`common.dedupe`); for commands and buttons other instances are asked after the ack.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck as Ack
from slack_bolt.async_app import AsyncBoltContext as Context
from slack_bolt.async_app import AsyncRespond as Respond
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.core.app import Core
from bot.core.commands import COMMANDS, forms
from bot.core.i18n import Translator, translator
from bot.core.replies import Reply
from bot.core.vocab import Role
from bot.handlers.common import calls, plan
from bot.handlers.common.arrivals import ARRIVED, Arrivals
from bot.handlers.common.dedupe import Dedupe, SharedSeenEvents
from bot.handlers.common.failures import failure_text, tell_failure
from bot.handlers.common.who import Who, who_by_slack
from bot.handlers.slack import inbound, modals
from bot.handlers.slack.bolt import bolt_app
from bot.handlers.slack.carrier import SlackCarrier
from bot.handlers.slack.files import SlackFiles
from bot.handlers.slack.inbound import (
    ButtonPress,
    DirectMessage,
    FormSubmission,
    HomeOpened,
    SlashCommand,
)
from bot.handlers.slack.modals import SlackModals
from bot.handlers.slack.render import ACTION_PREFIX, home_view
from bot.handlers.slack.sending import SlackSender, is_direct, slack_place
from bot.handlers.slack.services import SlackServices
from bot.logs import log_failure

log = logging.getLogger(__name__)


TRANSPORT = "slack"
# Every command of the core's table, in its order, as the app started (manifest.yml lists the
# same; a test checks); the app listens to the table's rows themselves
SLASH_COMMANDS: tuple[str, ...] = tuple(COMMANDS)
RATE_LIMIT_RETRIES = 5  # 429s retried after Retry-After; after that the outbox retries later

Tell = Callable[[list[Reply]], Awaitable[None]]
Body = dict[str, Any]


class SlackBot:
    """The bolt app and what it needs to answer: the core, the Web API client, the services."""

    def __init__(
        self, core: Core, settings: Settings, *, services: SlackServices | None = None
    ) -> None:
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        socket_mode = settings.slack_app_token is not None
        if not socket_mode and settings.slack_signing_secret is None:
            raise ValueError("SLACK_SIGNING_SECRET is required when Slack runs in HTTP mode")
        self.core = core
        self.services = services or SlackServices()
        # the listeners of commands and buttons still at work after their acknowledgement
        self.working: set[asyncio.Task[Any]] = set()
        self.dedupe = Dedupe(self.services.seen, SharedSeenEvents(core.engine))
        self.arrivals = Arrivals()  # the HTTP route stamps first; Socket Mode at the listener
        token = settings.slack_bot_token.get_secret_value()
        self.client = AsyncWebClient(
            token=token,
            base_url=settings.slack_api_url,
            session=self.services.session,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
        )
        self.sender = SlackSender(self.client, self.services, core.engine)
        self.files = SlackFiles(
            core, self.client, self.services, token=token, api_url=settings.slack_api_url
        )
        self.modals = SlackModals(core, self.client, self.sender)
        secret = settings.slack_signing_secret
        self.signing_secret = secret.get_secret_value() if secret else None
        self.app = bolt_app(self.client, secret.get_secret_value() if secret else "")
        self._register()

    def _register(self) -> None:
        app = self.app
        app.use(self._dedupe)
        for name in COMMANDS:  # every row of the command table
            app.command(f"/{name}")(self.on_command)
        app.action({"type": "block_actions", "action_id": _our_buttons()})(self.on_action)
        for form in forms():  # the modals: a modal's callback id is its form's name
            app.view_submission(form)(self.on_submission)
        app.event("app_home_opened")(self.on_home)
        app.event("message")(self.on_message)
        app.error(self.on_error)

    # --- the outbox's way out -----------------------------------------------------------------

    async def send(self, user: str, reply: Reply) -> str | None:
        return await self.sender.send(user, reply)

    async def edit(self, user: str, where: str, reply: Reply) -> None:
        await self.sender.edit(user, where, reply)

    async def find_sent(self, user: str, outbox_id: int) -> str | None:
        return await self.sender.find_sent(user, outbox_id)

    # --- middleware and errors ------------------------------------------------------------

    async def _dedupe(
        self, body: dict[str, Any], next_: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id")
        is_event = body.get("type") == "event_callback" and isinstance(event_id, str)
        if is_event and not await self.dedupe.first_time(str(event_id)):
            log.info("slack: event %s delivered again; not processed twice", event_id)
            return BoltResponse(status=200, body="")
        await next_()
        return None

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        # the type only: an exception's text may quote what a person typed
        log_failure(log, "slack: failed while handling %s", inbound.kind_of(body), exc=error)

    async def _guarded(
        self, kind: str, who: Who | None, work: Coroutine[Any, Any, None], tell: Tell
    ) -> None:
        """Run `work`; if it fails, log it (no personal data) and say so briefly."""
        try:
            await work
        except Exception as exc:
            log_failure(log, "slack: %s failed", kind, exc=exc)
            await tell_failure(tell, self._t(who), exc)

    async def _identify(self, kind: str, user: str, tell: Tell) -> tuple[bool, Who | None]:
        """Who is speaking; (False, None) when the directory cannot be read right now — the
        person has been told so, in the region's language, and to try again in a minute."""
        try:
            return True, await self.who(user)
        except Exception as exc:
            log_failure(log, "slack: %s: the directory could not be read", kind, exc=exc)
            await tell_failure(tell, self._t(None), exc)
            return False, None

    # --- who ----------------------------------------------------------------------------

    async def who(self, slack_id: str) -> Who | None:
        return await asyncio.to_thread(
            who_by_slack, self.core.engine, slack_id, self.core.default_language
        )

    def _t(self, who: Who | None) -> Translator:
        return who.t if who else translator(self.core.default_language)

    # --- listeners ------------------------------------------------------------------------

    def _at_work(self) -> None:
        """Count the running listener (bolt runs it in a task of its own, on after the
        acknowledgement) as work a stop waits for (`server.AfterAck.finish`)."""
        task = asyncio.current_task()
        if task is not None:
            self.working.add(task)
            task.add_done_callback(self.working.discard)

    def _arrived(self, context: Context) -> datetime:
        stamp = context.get(ARRIVED)
        return stamp if isinstance(stamp, datetime) else self.arrivals.stamp()

    async def on_command(self, ack: Ack, body: Body, respond: Respond, context: Context) -> None:
        self._at_work()
        arrived = self._arrived(context)
        await ack()
        event = inbound.translate(body)
        # (a replay that another instance processed already is skipped)
        if not isinstance(event, SlashCommand) or not await self.dedupe.first_delivery(context):
            return
        self.services.metrics.handled("command:/" + _known(event.name))
        channel = event.channel
        place = None if is_direct(channel) else slack_place(channel)
        carrier = self._carrier(event.user, channel, respond, event.trigger_id)
        await self._answer(carrier, plan.Asked(line=event.line, place=place), arrived)

    async def on_action(self, ack: Ack, body: Body, respond: Respond, context: Context) -> None:
        self._at_work()
        arrived = self._arrived(context)
        await ack()
        event = inbound.translate(body)
        # (a replay that another instance processed already is skipped)
        if not isinstance(event, ButtonPress) or not await self.dedupe.first_delivery(context):
            return
        self.services.metrics.handled("button")
        channel = event.channel or ""  # "" in a view
        place = slack_place(channel) if channel and not is_direct(channel) else None
        carrier = self._carrier(
            event.user,
            channel,
            respond if event.response_url else None,
            event.trigger_id,
            pressed=True,
        )
        await self._answer(carrier, plan.Asked(action=event.action, place=place), arrived)

    def _carrier(
        self,
        user: str,
        channel: str,
        respond: Respond | None,
        trigger_id: str,
        *,
        pressed: bool = False,
    ) -> SlackCarrier:
        return SlackCarrier(
            self.sender,
            self.modals,
            user=user,
            channel=channel,
            respond=respond,
            trigger_id=trigger_id,
            t=self._t(None),
            pressed=pressed,
        )

    async def _answer(self, carrier: SlackCarrier, asked: plan.Asked, arrived: datetime) -> None:
        """Who is asking, then the reply plan carried out (`common.plan`)."""
        kind = "slack: a button" if asked.action is not None else "slack: a command"
        known, who = await plan.identify(
            lambda: self.who(carrier.user), carrier, self._t(None), kind=kind
        )
        if not known:
            return
        carrier.t = self._t(who)
        await plan.answer(self.core, who, asked, carrier, transport=TRANSPORT, arrived=arrived)

    async def on_submission(self, ack: Ack, body: dict[str, Any]) -> None:
        """A modal submitted: checked before the ack (field errors keep the modal open with
        them, and so does an input we cannot read); once saved, the modal closes and the
        replies go to the direct message."""
        event = inbound.translate(body)
        if not isinstance(event, FormSubmission):
            await ack()
            return
        form = event.callback_id
        self.services.metrics.handled(f"form:{form}")
        try:
            who = await self.who(event.user)
        except Exception as exc:  # the modal stays open and says so
            log_failure(log, "slack: %s form: the directory could not be read", form, exc=exc)
            problem = self._t(None)(failure_text(exc))
            first = next(iter(event.values), form)
            await ack(response_action="errors", errors={first: problem})
            return
        if event.unreadable:  # an input the modal should not have: say so on that block
            problem = self._t(who)("I cannot read this field.")
            await ack(response_action="errors", errors=dict.fromkeys(event.unreadable, problem))
            return
        try:
            outcome = await modals.submit(self.core, who, event)
        except Exception as exc:
            log_failure(log, "slack: %s form failed", form, exc=exc)
            first = next(iter(event.values), form)
            problem = self._t(who)(failure_text(exc))
            await ack(response_action="errors", errors={first: problem})
            return
        if outcome.errors:
            await ack(response_action="errors", errors=outcome.errors)
            return
        await ack()

        async def tell(replies: list[Reply]) -> None:
            await self.sender.send_all(event.user, replies)

        await self._guarded(f"form:{form}", None, tell(outcome.replies), tell)

    async def on_home(self, body: dict[str, Any]) -> None:
        event = inbound.translate(body)
        if not isinstance(event, HomeOpened):
            return
        self.services.metrics.handled("home")
        who: Who | None = None

        async def tell(replies: list[Reply]) -> None:  # the App Home: only they see it
            more = self._t(who)("Type /help to see what you can do.")
            await self.client.views_publish(user_id=event.user, view=home_view(replies, more=more))

        known, who = await self._identify("home", event.user, tell)
        if known:
            await self._guarded("home", who, self._home(who, tell), tell)

    async def _home(self, who: Who | None, tell: Tell) -> None:
        if who is None:
            await tell([self.core.not_registered()])
            return
        if Role.broker in who.roles:
            command = "/cases"
        elif "leavers" in who.commands:
            command = "/leavers"
        else:
            command = "/help"
        await tell(await calls.typed(self.core, who, command, transport=TRANSPORT))

    async def on_message(self, body: dict[str, Any]) -> None:
        event = inbound.translate(body)
        if not isinstance(event, DirectMessage):
            return
        self.services.metrics.handled("message")
        who: Who | None = None

        async def tell(replies: list[Reply]) -> None:
            await self.sender.post(event.channel, replies, user=event.user, t=self._t(who))

        known, who = await self._identify("message", event.user, tell)
        if known:
            await self._guarded("message", who, self._message(event, who, tell), tell)

    async def _message(self, event: DirectMessage, who: Who | None, tell: Tell) -> None:
        if who is None:
            await tell([self.core.not_registered()])
            return
        if event.files:
            await self.files.receive(event, who, tell)
            return
        if not event.text:
            log.info("slack: an empty direct message")
            return
        await tell(await calls.typed(self.core, who, event.text, transport=TRANSPORT))


def _known(name: str) -> str:
    """A command name for a metric label: one of ours, or 'other' (labels must stay few)."""
    return name if name in COMMANDS else "other"


def _our_buttons() -> re.Pattern[str]:
    return re.compile("^" + re.escape(ACTION_PREFIX) + r"\d+$")
