"""The Slack app: slack-bolt's AsyncApp with thin listeners around the core.

Every listener acknowledges first (Slack waits three seconds) and then does the work: it
translates the payload (`inbound`), finds the person by their Slack id, calls the core in a
worker thread (the core is synchronous), and renders the replies (`render`). Where answers go:

- a slash command: an ephemeral answer (only the caller sees it, also in a channel), so
  personal details never reach a channel;
- a button: the bot's direct message with the person when pressed there, else ephemeral (a
  button in an ephemeral answer, also one in a direct message between two people), else the
  person's direct message (a button in the App Home);
- a guided conversation (`/leaver chat`, `/placed REF chat`, the form's buttons): the direct
  message, because that is the only place Slack sends us the answers people type;
- a direct message, a CSV file sent in one, a submitted modal: the direct message.

Two exceptions to "ack first": a modal's submission (intake, placement) is checked before the
ack, because field errors travel in the ack itself; and `/leaver`, `/placed REF` and the
Placement button open their modal right after the ack, because Slack's trigger id is only good
for three seconds. Before the placement modal opens, the core checks that the person may record
that placement now; if not, they get the refusal (ephemerally) instead of a modal.

Slack retries an event it thinks was not received (X-Slack-Retry-Num, the same event_id). The
first instance to record the event id in the database (`SharedSeenEvents`, the `slack_event`
table) processes the event; every other delivery of it, on this instance or another behind the
same load balancer, is acknowledged and skipped. The ids this instance saw lately are also kept
in memory, so a retry reaching the same instance does not need the database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.core import clock
from bot.core.app import Core
from bot.core.commands import COMMANDS, may_use
from bot.core.directory import person_by_slack
from bot.core.errors import Refused
from bot.core.followup.followups import PLACEMENT_FORM, check_placement
from bot.core.i18n import Translator, translator
from bot.core.intake.leaver_form import LEAVER_FORM
from bot.core.replies import Reply
from bot.handlers.slack import inbound
from bot.handlers.slack.inbound import (
    ButtonPress,
    DirectMessage,
    FormSubmission,
    HomeOpened,
    SharedFile,
    SlashCommand,
)
from bot.handlers.slack.modals import Submitted, submit_leaver, submit_placement
from bot.handlers.slack.render import (
    ACTION_PREFIX,
    LEAVER_CALLBACK,
    PLACEMENT_CALLBACK,
    SlackMessage,
    home_view,
    leaver_modal,
    placement_modal,
    render,
)
from bot.handlers.slack.services import SharedSeenEvents, SlackServices
from bot.logs import log_failure
from bot.store.db import session_scope
from bot.store.models import Person

log = logging.getLogger(__name__)

TRANSPORT = "slack"
# Every command of the core's table, in its order (manifest.yml lists the same; a test checks)
SLASH_COMMANDS: tuple[str, ...] = tuple(COMMANDS)
BOLT_TOKEN_VARIABLE = "SLACK_BOT_TOKEN"  # what AsyncApp reads when not given a token
RATE_LIMIT_RETRIES = 5  # 429s retried after Retry-After; after that the outbox retries later
RESPONSE_URL_USES = 5  # Slack accepts at most five answers through one response_url
MAX_CSV_BYTES = 5 * 1024 * 1024
# Where a shared file may be fetched with the bot token: Slack's file host (url_private and
# url_private_download of every file, Slack Connect ones included) and the host of the
# configured SLACK_API_URL (a proxy or a test double). Any other address in a payload is
# never sent the token.
SLACK_FILE_HOST = "files.slack.com"
# `/leaver chat` and `/placed REF chat` start the guided conversation in the DM instead of
# opening the modal
CONVERSATION_WORDS = frozenset({"chat", "gesprek", "conversation"})
# Commands and buttons that start or continue a guided conversation: their questions go to
# the direct message, the only place where Slack sends us the typed answers.
CONVERSATION_COMMANDS = frozenset(c.name for c in COMMANDS.values() if c.conversation)
# (The Placement button, `placed:REF`, opens the placement modal instead.)
CONVERSATION_ACTIONS = ("form:", "cmd:leaver")
PLACED_ACTION = "placed:"


# --- who is speaking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    id: str
    language: str
    roles: tuple[str, ...]
    school_id: str | None
    may_register: bool  # a school contact with a school: /leaver opens the modal
    commands: frozenset[str]  # the commands their roles allow

    @property
    def t(self) -> Translator:
        return translator(self.language)


# --- the app ------------------------------------------------------------------------------------


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
        self.events = SharedSeenEvents(core.engine)
        self._token = settings.slack_bot_token.get_secret_value()
        self._api_origin = _origin(settings.slack_api_url)
        self.client = AsyncWebClient(
            token=self._token,
            base_url=settings.slack_api_url,
            session=self.services.session,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
        )
        secret = settings.slack_signing_secret
        with _bolt_not_reading_the_token():
            self.app = AsyncApp(
                name="vangnet",
                client=self.client,
                signing_secret=secret.get_secret_value() if secret else "",
                process_before_response=False,
            )
        self._register()

    def _register(self) -> None:
        app = self.app
        app.use(self._dedupe)
        for name in SLASH_COMMANDS:
            app.command(f"/{name}")(self.on_command)
        app.action({"type": "block_actions", "action_id": _our_buttons()})(self.on_action)
        app.view_submission(LEAVER_CALLBACK)(self.on_leaver_submission)
        app.view_submission(PLACEMENT_CALLBACK)(self.on_placement_submission)
        app.event("app_home_opened")(self.on_home)
        app.event("message")(self.on_message)
        app.error(self.on_error)

    # --- middleware and errors ------------------------------------------------------------

    async def _dedupe(
        self, body: dict[str, Any], next_: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id")
        is_event = body.get("type") == "event_callback" and isinstance(event_id, str)
        if is_event and not await self._first_time(str(event_id)):
            log.info("slack: event %s delivered again; not processed twice", event_id)
            return BoltResponse(status=200, body="")
        await next_()
        return None

    async def _first_time(self, event_id: str) -> bool:
        """Whether this delivery of the event is the first, here or on any other instance."""
        if not self.services.seen.first_time(event_id):
            return False  # this instance saw it already: no need to ask the database
        try:
            return await asyncio.to_thread(self.events.first_time, event_id)
        except Exception as exc:  # better processed twice than not at all
            log.error("slack: could not record event %s: %s", event_id, type(exc).__name__)
            return True

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
            t = who.t if who else translator(self.core.default_language)
            text = t("Something went wrong. Please try again later.")
            try:
                await tell([Reply(text=text, error=True)])
            except Exception as again:
                log.error("slack: could not report the failure: %s", type(again).__name__)

    # --- who ----------------------------------------------------------------------------

    def _who_now(self, slack_id: str) -> Who | None:
        with session_scope(self.core.engine) as session:
            person = person_by_slack(session, slack_id)
            if person is None:
                return None
            return _who_of(person, self.core.default_language)

    async def who(self, slack_id: str) -> Who | None:
        return await asyncio.to_thread(self._who_now, slack_id)

    async def _core_text(self, who: Who, text: str) -> list[Reply]:
        return await asyncio.to_thread(
            self.core.handle_text, person_id=who.id, text=text, transport=TRANSPORT, private=True
        )

    async def _core_action(self, who: Who, action: str) -> list[Reply]:
        return await asyncio.to_thread(
            self.core.handle_action,
            person_id=who.id,
            action=action,
            transport=TRANSPORT,
            private=True,
        )

    # --- sending --------------------------------------------------------------------------

    async def dm_channel(self, user: str) -> str:
        known = self.services.dm_channels.get(user)
        if known is not None:
            return known
        response = await self.client.conversations_open(users=user)
        channel = response.get("channel")
        if not isinstance(channel, dict) or not isinstance(channel.get("id"), str):
            raise RuntimeError("conversations.open answered without a channel id")
        self.services.remember_dm(user, channel["id"])
        return str(channel["id"])

    async def post(self, channel: str, replies: Sequence[Reply]) -> list[str]:
        """Post replies as messages in `channel` (a direct message), one a second at most.
        Returns the timestamps Slack gave the messages (their ids within the channel)."""
        stamps: list[str] = []
        for reply in replies:
            for message in render(reply):
                async with self.services.pacer.slot(channel):
                    response = await self.client.chat_postMessage(
                        channel=channel, text=message.text, blocks=message.blocks_json()
                    )
                self.services.metrics.sent.inc()
                ts = response.get("ts")
                if isinstance(ts, str):
                    stamps.append(ts)
            await self._upload_image(channel, reply)
        return stamps

    async def _upload_image(self, channel: str, reply: Reply) -> None:
        """A reply's chart, with the files upload v2 flow (files.getUploadURLExternal …)."""
        if reply.image_png is None:
            return
        async with self.services.pacer.slot(channel):  # the upload posts a message too
            await self.client.files_upload_v2(
                channel=channel,
                content=reply.image_png,
                filename="chart.png",
                title=reply.image_title or "chart",
            )

    async def send(self, user: str, reply: Reply) -> str | None:
        """One reply to a person's direct message: the outbox's way out. Returns where the
        message is ("channel:ts"), so that it can be edited later (a card someone claimed).

        If a reply of several pages (or with a chart) fails half-way, the outbox sends it
        again whole, so its first part can arrive twice; a single message cannot.
        """
        channel = await self.dm_channel(user)
        stamps = await self.post(channel, [reply])
        return f"{channel}:{stamps[0]}" if stamps else None

    async def edit(self, user: str, where: str, reply: Reply) -> None:
        """Change a message sent earlier (`where` as `send` returned it) to show `reply`: its
        first page, since an edit cannot add messages."""
        channel, _, ts = where.partition(":")
        message = render(reply)[0]
        async with self.services.pacer.slot(channel):
            await self.client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.blocks_json()
            )
        self.services.metrics.sent.inc()

    async def send_all(self, user: str, replies: Sequence[Reply]) -> None:
        await self.post(await self.dm_channel(user), replies)

    async def _answer_ephemeral(
        self, respond: AsyncRespond, user: str, replies: Sequence[Reply]
    ) -> None:
        """Through the response_url: only the caller sees it. What does not fit Slack's five
        uses of one response_url goes to the caller's direct message instead of being lost."""
        messages: list[SlackMessage] = [m for r in replies for m in render(r)]
        for message in messages[:RESPONSE_URL_USES]:
            await respond(
                text=message.text,
                blocks=message.blocks_json(),
                response_type="ephemeral",
                replace_original=False,
            )
            self.services.metrics.sent.inc()
        if len(messages) > RESPONSE_URL_USES:
            channel = await self.dm_channel(user)
            for message in messages[RESPONSE_URL_USES:]:
                async with self.services.pacer.slot(channel):
                    await self.client.chat_postMessage(
                        channel=channel, text=message.text, blocks=message.blocks_json()
                    )
                self.services.metrics.sent.inc()
        for reply in replies:  # a chart cannot go through a response_url: it goes to the DM
            if reply.image_png is not None:
                await self._upload_image(await self.dm_channel(user), reply)

    async def open_leaver_modal(self, trigger_id: str, who: Who) -> None:
        view = leaver_modal(who.t, LEAVER_FORM)
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def open_placement_modal(
        self, trigger_id: str, who: Who, args: str, tell: Tell, *, user: str
    ) -> None:
        """`/placed REF` or the Placement button: the placement modal for case REF, if the core
        says the person may record it now; else its refusal. `/placed REF chat`: the guided
        conversation in the direct message."""
        ref, *rest = args.split() or [""]
        if not ref or any(word.casefold() in CONVERSATION_WORDS for word in rest):
            replies = await self._core_text(who, f"/placed {ref}".strip())
            if any(r.error for r in replies):
                await tell(replies)
            else:
                await self.send_all(user, replies)
            return
        opened = await asyncio.to_thread(self._placement_view, user, ref)
        if isinstance(opened, View):
            await self.client.views_open(trigger_id=trigger_id, view=opened)
        else:
            await tell([opened])

    def _placement_view(self, user: str, ref: str) -> View | Reply:
        """The modal for case `ref`, or why this person cannot record its placement now."""
        with session_scope(self.core.engine) as session:
            actor = person_by_slack(session, user)
            if actor is None:
                return self.core.not_registered()
            ctx = self.core.ctx(session, actor, transport=TRANSPORT, private=True)
            try:
                with session.begin_nested():
                    case = check_placement(ctx, ref)
            except Refused as refusal:
                return Reply(text=refusal.message, error=True)
            return placement_modal(
                ctx.t,
                PLACEMENT_FORM,
                ref=case.ref,
                student=case.student_ref,
                today=clock.today(ctx.region.tz),
            )

    # --- listeners ------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        event = inbound.translate(body)
        if not isinstance(event, SlashCommand):
            return
        self.services.metrics.handled("command:/" + _known(event.name))

        async def tell(replies: list[Reply]) -> None:
            await self._answer_ephemeral(respond, event.user, replies)

        who = await self.who(event.user)
        await self._guarded("command", who, self._command(event, who, tell), tell)

    async def _command(self, event: SlashCommand, who: Who | None, tell: Tell) -> None:
        if who is None:
            await tell([self.core.not_registered()])
            return
        if event.name == "leaver" and who.may_register:
            if event.text.casefold() in CONVERSATION_WORDS:
                await self.send_all(event.user, await self._core_text(who, "/leaver"))
                return
            await self.open_leaver_modal(event.trigger_id, who)
            return
        if event.name == "placed" and "placed" in who.commands:
            await self.open_placement_modal(
                event.trigger_id, who, event.text, tell, user=event.user
            )
            return
        replies = await self._core_text(who, event.line)
        starts_conversation = event.name in CONVERSATION_COMMANDS and event.name in who.commands
        if starts_conversation and not any(r.error for r in replies):
            await self.send_all(event.user, replies)
            return
        await tell(replies)

    async def on_action(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        event = inbound.translate(body)
        if not isinstance(event, ButtonPress):
            return
        self.services.metrics.handled("button")

        async def tell(replies: list[Reply]) -> None:
            if await self._in_our_dm(event):
                await self.post(str(event.channel), replies)  # our direct message: answer there
            elif event.response_url:  # elsewhere, also another direct message: ephemeral
                await self._answer_ephemeral(respond, event.user, replies)
            else:  # the App Home, or a modal
                await self.send_all(event.user, replies)

        who = await self.who(event.user)
        await self._guarded("button", who, self._press(event, who, tell), tell)

    async def _in_our_dm(self, event: ButtonPress) -> bool:
        """Whether the button was pressed in the bot's own direct message with the person.

        A "D" channel is not enough: an ephemeral answer to a slash command typed in a direct
        message between two people has buttons too, and the bot cannot post there."""
        if event.channel is None or not event.channel.startswith("D"):
            return False
        return event.channel == await self.dm_channel(event.user)

    async def _press(self, event: ButtonPress, who: Who | None, tell: Tell) -> None:
        if who is None:
            await tell([self.core.not_registered()])
            return
        if event.action == "cmd:leaver" and who.may_register:
            await self.open_leaver_modal(event.trigger_id, who)
            return
        if event.action.startswith(PLACED_ACTION) and "placed" in who.commands:
            ref = event.action.removeprefix(PLACED_ACTION)
            await self.open_placement_modal(event.trigger_id, who, ref, tell, user=event.user)
            return
        replies = await self._core_action(who, event.action)
        if event.action.startswith(CONVERSATION_ACTIONS):
            await self.send_all(event.user, replies)
            return
        await tell(replies)

    async def on_leaver_submission(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._on_submission(ack, body, "leaver", partial(submit_leaver, self.core))

    async def on_placement_submission(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await self._on_submission(ack, body, "placement", partial(submit_placement, self.core))

    async def _on_submission(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        form: str,
        submit: Callable[[FormSubmission], Submitted],
    ) -> None:
        """A modal submitted: checked before the ack (field errors keep the modal open with
        them, and so does an input we cannot read); once saved, the modal closes and the
        replies go to the direct message."""
        event = inbound.translate(body)
        if not isinstance(event, FormSubmission):
            await ack()
            return
        self.services.metrics.handled(f"form:{form}")
        if event.unreadable:  # an input the modal should not have: say so on that block
            who = await self.who(event.user)
            t = who.t if who else translator(self.core.default_language)
            problem = t("I cannot read this field.")
            await ack(response_action="errors", errors=dict.fromkeys(event.unreadable, problem))
            return
        try:
            outcome = await asyncio.to_thread(submit, event)
        except Exception as exc:
            log_failure(log, "slack: %s form failed", form, exc=exc)
            t = translator(self.core.default_language)
            first = next(iter(event.values), form)
            await ack(
                response_action="errors",
                errors={first: t("Something went wrong. Please try again later.")},
            )
            return
        if outcome.errors:
            await ack(response_action="errors", errors=outcome.errors)
            return
        await ack()

        async def tell(replies: list[Reply]) -> None:
            await self.send_all(event.user, replies)

        await self._guarded(f"form:{form}", None, tell(outcome.replies), tell)

    async def on_home(self, body: dict[str, Any]) -> None:
        event = inbound.translate(body)
        if not isinstance(event, HomeOpened):
            return
        self.services.metrics.handled("home")
        who = await self.who(event.user)

        async def tell(replies: list[Reply]) -> None:
            t = who.t if who else translator(self.core.default_language)
            more = t("Type /help to see what you can do.")
            await self.client.views_publish(user_id=event.user, view=home_view(replies, more=more))

        await self._guarded("home", who, self._home(who, tell), tell)

    async def _home(self, who: Who | None, tell: Tell) -> None:
        if who is None:
            await tell([self.core.not_registered()])
            return
        if "broker" in who.roles:
            command = "/cases"
        elif "leavers" in who.commands:
            command = "/leavers"
        else:
            command = "/help"
        await tell(await self._core_text(who, command))

    async def on_message(self, body: dict[str, Any]) -> None:
        event = inbound.translate(body)
        if not isinstance(event, DirectMessage):
            return
        self.services.metrics.handled("message")
        who = await self.who(event.user)

        async def tell(replies: list[Reply]) -> None:
            await self.post(event.channel, replies)

        await self._guarded("message", who, self._message(event, who, tell), tell)

    async def _message(self, event: DirectMessage, who: Who | None, tell: Tell) -> None:
        if who is None:
            await tell([self.core.not_registered()])
            return
        if event.files:
            await self._files(event, who, tell)
            return
        if not event.text:
            log.info("slack: an empty direct message")
            return
        await tell(await self._core_text(who, event.text))

    # --- a CSV file in a direct message --------------------------------------------------------

    async def _files(self, event: DirectMessage, who: Who, tell: Tell) -> None:
        """A CSV of leavers sent by a school contact: imported whole, or not at all."""
        t = who.t
        if not who.may_register or who.school_id is None:
            await tell([Reply(text=t("/{name} is not for your role. Type /help.", name="leaver"))])
            return
        one_csv = t("Send one CSV file of leavers at a time.")
        if len(event.files) != 1:
            await tell([Reply(text=one_csv, error=True)])
            return
        shared = await self._file_details(event.files[0])
        if shared is None:
            no_access = t(
                "I cannot open that file: Slack does not give me access to it. "
                "Save it on your computer and send it here again."
            )
            await tell([Reply(text=no_access, error=True)])
            return
        if not shared.is_csv:
            await tell([Reply(text=one_csv, error=True)])
            return
        if shared.url_private is None or not self._may_carry_token(shared.url_private):
            log.warning("slack: a shared file not on Slack's file host; not downloaded")
            only = t("I can only read files stored in Slack. Send the CSV file itself, here.")
            await tell([Reply(text=only, error=True)])
            return
        data = await self._download(shared)
        if data is None:
            await tell([Reply(text=t("That file is too large for me."), error=True)])
            return
        replies = await asyncio.to_thread(
            self.core.handle_file, person_id=who.id, data=data, transport=TRANSPORT
        )
        await tell(replies)

    async def _file_details(self, shared: SharedFile) -> SharedFile | None:
        """The file with its address: a file shared over Slack Connect arrives without one
        (file_access: check_file_info) and is looked up with files.info. None: Slack does
        not tell us where it is."""
        if shared.url_private is not None:
            return shared
        try:
            response = await self.client.files_info(file=shared.id)
            raw = response.get("file")
            details = inbound.shared_file(raw) if isinstance(raw, dict) else None
        except (SlackApiError, inbound.Malformed) as exc:
            log.warning("slack: files.info for a shared file failed: %s", type(exc).__name__)
            return None
        if details is None or details.url_private is None:
            log.warning("slack: files.info gave no address for a shared file")
            return None
        return details

    async def _download(self, shared: SharedFile) -> bytes | None:
        """The file's bytes, fetched with the bot token (never put in the URL or the log)."""
        if shared.size > MAX_CSV_BYTES:
            return None
        url = shared.url_private
        if url is None or not self._may_carry_token(url):
            raise ValueError("not a Slack file address")  # the token goes nowhere else
        http = self.services.http_client()
        async with http.stream(
            "GET", url, headers={"Authorization": f"Bearer {self._token}"}
        ) as response:
            response.raise_for_status()
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > MAX_CSV_BYTES:
                    return None
                chunks.append(chunk)
        return b"".join(chunks)

    def _may_carry_token(self, url: str) -> bool:
        """Whether the bot token may go with a request to `url` (see SLACK_FILE_HOST)."""
        origin = _origin(url)
        return origin == ("https", SLACK_FILE_HOST, 443) or origin == self._api_origin


Tell = Callable[[list[Reply]], Awaitable[None]]


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of `url` (the port made explicit for http and https)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ("", "", None)
    scheme = parts.scheme.casefold()
    default = {"https": 443, "http": 80}.get(scheme)
    return (scheme, (parts.hostname or "").casefold(), port if port is not None else default)


@contextmanager
def _bolt_not_reading_the_token() -> Iterator[None]:
    """bolt reads SLACK_BOT_TOKEN from the environment by itself; given our client as well, it
    warns at every start that the token will be unused. The client carries the token (read by
    Settings, from the environment or .env), so bolt is built without that variable in view."""
    token = os.environ.pop(BOLT_TOKEN_VARIABLE, None)
    try:
        yield
    finally:
        if token is not None:
            os.environ[BOLT_TOKEN_VARIABLE] = token


def _who_of(person: Person, default_language: str) -> Who:
    return Who(
        id=person.id,
        language=person.language or default_language,
        roles=tuple(person.roles),
        school_id=person.school_id,
        may_register=may_use(person, "leaver") and person.school_id is not None,
        commands=frozenset(name for name in COMMANDS if may_use(person, name)),
    )


def _known(name: str) -> str:
    """A command name for a metric label: one of ours, or 'other' (labels must stay few)."""
    return name if name in SLASH_COMMANDS else "other"


def _our_buttons() -> re.Pattern[str]:
    return re.compile("^" + re.escape(ACTION_PREFIX) + r"\d+$")


def build_app(core: Core, settings: Settings, *, services: SlackServices | None = None) -> AsyncApp:
    """The bolt app for `core`. Whoever passes `services` opens and closes them."""
    return SlackBot(core, settings, services=services).app
