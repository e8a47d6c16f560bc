"""The Teams bot: the Agents SDK's CloudAdapter with one agent around the core.

Activities reach `on_turn` only after the server checked their token (`trust`) and took them
once by their id (`server`). There they are translated and routed:

- the app installed for a person, or in a team or group chat (conversationUpdate with the bot
  among the members added, installationUpdate "add"): the conversation's reference is stored
  (`references`); in a personal chat the person known to the directory is welcomed with /help;
  the app removed: the reference is forgotten;
- `/start TOKEN` in the personal chat (an invite): the sender's Teams account bound to the
  invited person; someone the coordinator gave by their sign-in address is recognised the first
  time they write (`who`: their object id learned from the Bot Connector, bound once);
- a file sent with a message (`files`): a school contact's file of leavers in the personal
  chat imported, judged before it is downloaded; in a channel, where to send it instead; a
  picture pasted in the personal chat: what the bot reads;
- the answer to a file's consent card (an invoke "fileConsent/invoke", `files`): the file
  put in the person's OneDrive and shown, or the offer withdrawn; answered with 200;
- a form card's Confirm (`forms`: the intake, placement, correction, `/admin add` as one card
  with inputs) → the core's submit_form; its problems shown on the card again;
- a line typed (a command, a conversation's answer; in a channel or group chat the bot's
  mention stripped) or a card's button pressed (a message whose `value` holds the action) →
  the one reply plan (`common.plan`), which decides where each reply goes; Teams carries it out
  (`carrier`): here, privately in the personal chat, in a channel (a scan's voting card
  updated in place), a vote's own answer to the voter alone, a form as a card, the card a
  Claim was pressed on shown anew.

Anyone not in the directory gets the polite refusal and nothing else. A failure is told in
the product's own words (`common.failures`): the SDK's default error handler, which posts the
exception and the connector's URL into the chat, is replaced.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re

from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
)
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    ConnectorClientBase,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization import AuthTypes

from bot.config import Settings
from bot.core import invites
from bot.core.app import Core
from bot.core.directory import bind_teams_upn
from bot.core.forms import FORMS
from bot.core.i18n import Translator, translator
from bot.core.replies import Reply
from bot.handlers.common import calls, plan
from bot.handlers.common.failures import failure_text
from bot.handlers.common.forms import Opening
from bot.handlers.common.who import Who, who_by_teams
from bot.handlers.teams import forms, references, render
from bot.handlers.teams.carrier import TeamsCarrier
from bot.handlers.teams.files import FILE_CONSENT_INVOKE, TeamsFiles, media, shared_files
from bot.handlers.teams.sending import TeamsSender
from bot.logs import log_failure
from bot.store.db import session_scope

log = logging.getLogger(__name__)

TRANSPORT = "teams"


def connection_manager(settings: Settings) -> MsalConnectionManager:
    """MSAL with the bot's client secret in its tenant: the outgoing calls' tokens come from
    Entra ID (login.microsoftonline.com/TENANT)."""
    if not settings.teams_enabled:
        raise ValueError("TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID are not all set")
    assert settings.teams_app_password is not None
    config = AgentAuthConfiguration(
        auth_type=AuthTypes.client_secret,
        client_id=settings.teams_app_id,
        tenant_id=settings.teams_tenant_id,
        client_secret=settings.teams_app_password.get_secret_value(),
        connection_name="SERVICE_CONNECTION",
    )
    return MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": config})


class TeamsBot:
    """The agent: `on_turn` for the adapter; `send` and `edit` for the outbox."""

    def __init__(self, core: Core, settings: Settings, adapter: CloudAdapter | None = None) -> None:
        assert settings.teams_app_id is not None
        self.core = core
        self.app_id = settings.teams_app_id
        self.tenant_id = settings.teams_tenant_id or ""
        self.adapter = adapter or CloudAdapter(connection_manager=connection_manager(settings))
        self.adapter.on_turn_error = self.on_turn_error
        self.sender = TeamsSender(
            self.adapter, self.app_id, self.tenant_id, core.engine, core.default_language
        )
        self.files = TeamsFiles(core, self.sender)

    # --- the outbox's way out ---------------------------------------------------------------

    async def send(self, address: str, reply: Reply, *, outbox_id: int | None = None) -> str | None:
        # Teams keeps no metadata of ours on a message to find it by after a crash, so the
        # outbox id is not sent along (README: what holds for duplicates on Teams).
        del outbox_id
        return await self.sender.send(address, reply)

    async def edit(self, address: str, ref: str, reply: Reply) -> None:
        await self.sender.edit(address, ref, reply)

    async def flush(self) -> None:
        await self.sender.flush()

    # --- forms ------------------------------------------------------------------------------

    async def _invite(self, context: TurnContext, who: Who | None, token: str) -> None:
        """An invite's token sent in the personal chat: the sender's Entra object id bound to
        the invited person (`invites.redeem_teams`), and what the core says about it."""
        object_id = getattr(context.activity.from_property, "aad_object_id", None)
        if not object_id:
            await self.sender.post([self.core.not_registered()], context=context)
            return
        replies = await asyncio.to_thread(
            invites.redeem_teams,
            self.core.engine,
            token=token,
            object_id=object_id,
            language=who.language if who else self.core.default_language,
        )
        await self.sender.post(replies, context=context)

    async def _submitted(
        self,
        context: TurnContext,
        who: Who,
        form_name: str,
        values: dict[str, str],
        about: dict[str, str],
    ) -> None:
        """A form card's Confirm: checked and saved by the core; its problems shown on the
        card again, filled in as sent."""
        outcome = await calls.submitted(
            self.core, who, form_name, values, about, transport=TRANSPORT
        )
        if outcome.errors:
            opened = Opening(FORMS[form_name], context=about)
            card = forms.form_card(who.t, opened, values=values, problems=outcome.errors)
            await self.sender.post_card(context, card)
            return
        await self.sender.post(outcome.replies, context=context)

    # --- failures ---------------------------------------------------------------------------

    async def on_turn_error(self, context: TurnContext, error: Exception) -> None:
        """Instead of the SDK's handler (which posts the exception and the connector's URL
        into the chat): logged without content, and the person told in the product's words."""
        log_failure(log, "teams: failed while handling an activity", exc=error)
        if references.is_personal(context.activity):
            t = translator(self.core.default_language)
            try:
                await context.send_activity(
                    Activity(type="message", text=t(failure_text(error)), text_format="plain")
                )
            except Exception as again:
                log.error("teams: could not tell about a failure: %s", type(again).__name__)

    # --- the agent --------------------------------------------------------------------------

    async def who(self, context: TurnContext) -> Who | None:
        """The person behind the activity's Entra object id; someone the coordinator gave by
        their sign-in address (UPN) is resolved the first time they write or install the app
        in a personal chat (`_resolve_upn`)."""
        activity = context.activity
        sender = activity.from_property
        object_id = getattr(sender, "aad_object_id", None) if sender else None
        if not object_id:
            return None
        found = await asyncio.to_thread(
            who_by_teams, self.core.engine, object_id, self.core.default_language
        )
        if found is None and references.is_personal(activity) and await self._resolve_upn(context):
            found = await asyncio.to_thread(
                who_by_teams, self.core.engine, object_id, self.core.default_language
            )
        return found

    async def _resolve_upn(self, context: TurnContext) -> bool:
        """Ask the Bot Connector for the sender's member information (their UPN) and bind
        their object id to the person the coordinator gave by that UPN, once
        (`directory.bind_teams_upn`). Whether someone was bound."""
        activity = context.activity
        sender = activity.from_property
        client = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]
        if client is None or sender is None or activity.conversation is None:
            return False
        try:
            member = await client.conversations.get_conversation_member(
                activity.conversation.id, sender.id
            )
        except Exception as exc:  # not known there: nothing to resolve
            log.info("teams: member information not available: %s", type(exc).__name__)
            return False
        extra = member.model_extra or {}
        upn = extra.get("userPrincipalName") or extra.get("email")
        object_id = member.aad_object_id or getattr(sender, "aad_object_id", None)
        if not isinstance(upn, str) or not upn or not object_id:
            return False
        return await asyncio.to_thread(self._bind, upn, object_id)

    def _bind(self, upn: str, object_id: str) -> bool:
        with session_scope(self.core.engine) as session:
            return bind_teams_upn(session, upn=upn, object_id=object_id) is not None

    def _t(self, who: Who | None) -> Translator:
        return who.t if who else translator(self.core.default_language)

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        if activity.type == ActivityTypes.conversation_update:
            await self._conversation_update(context)
        elif activity.type == ActivityTypes.installation_update:
            await self._installation_update(context)
        elif activity.type == ActivityTypes.invoke and activity.name == FILE_CONSENT_INVOKE:
            await self.files.consent(context, await self.who(context))
        elif activity.type == ActivityTypes.message:
            carrier = TeamsCarrier(self.core, self.sender, context)
            known, who = await plan.identify(
                lambda: self.who(context), carrier, self._t(None), kind=TRANSPORT
            )
            if not known:
                return
            try:
                await self._message(context, who, carrier)
            except Exception as exc:  # an invite or a form card (the plan tells its own)
                log_failure(log, "teams: a message failed", exc=exc)
                await plan.tell_failure(carrier, self._t(who), exc)

    async def _conversation_update(self, context: TurnContext) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        added = [m for m in activity.members_added or [] if m.id == bot_id]
        removed = [m for m in activity.members_removed or [] if m.id == bot_id]
        if removed:
            await self.sender.forget(activity)
        elif added:
            await self._installed(context)

    async def _installation_update(self, context: TurnContext) -> None:
        action = (context.activity.action or "").casefold()
        if action.startswith("remove"):
            await self.sender.forget(context.activity)
        elif action.startswith("add"):
            await self._installed(context)

    async def _installed(self, context: TurnContext) -> None:
        activity = context.activity
        await self.sender.remember(activity)
        if not references.is_personal(activity):
            return
        who = await self.who(context)
        if who is None:
            await self.sender.post([self.core.not_registered()], context=context)
            return
        welcome = Reply(text=who.t("Welcome to Vangnet, {name}.", name=who.name))
        helping = await calls.typed(self.core, who, "/help", transport=TRANSPORT)
        await self.sender.post([welcome, *helping], context=context)

    async def _message(self, context: TurnContext, who: Who | None, carrier: TeamsCarrier) -> None:
        """A message: an invite's token, a form card's Confirm, a card's button or a typed
        line; the last two by the reply plan (`common.plan`)."""
        activity = context.activity
        personal = references.is_personal(activity)
        await self.sender.remember(activity)
        text = _text_of(activity, personal)
        token = _invite_token(text) if personal else None
        if token is not None:  # `/start TOKEN` from an invite: their Teams account bound
            await self._invite(context, who, token)
            return
        shared = shared_files(activity)
        if shared or (personal and media(activity) and not text):
            if who is None:
                await self.sender.post([self.core.not_registered()], context=context)
            elif shared:  # a file sent (in a channel: where to send it instead)
                await self.files.receive(context, who, shared, text)
            else:
                hint = who.t(
                    "I read text, and files of leavers as CSV or Excel (.xlsx); a photo, "
                    "sticker, voice message or video I cannot read. Type /help to see what I "
                    "can do."
                )
                await self.sender.post([Reply(text=hint)], context=context)
            return
        form = forms.submitted(activity.value) if personal and who is not None else None
        if form is not None and who is not None:
            await self._submitted(context, who, *form)
            return
        action = render.action_of(activity.value)
        if action is None and not text:
            return
        place = None
        if not personal and activity.conversation is not None:
            place = references.place_name(activity.conversation.id)
        asked = plan.Asked(line=None if action else text, action=action, place=place)
        await plan.answer(self.core, who, asked, carrier, transport=TRANSPORT)


def _invite_token(text: str) -> str | None:
    """The token of `/start TOKEN` (an invite), if that is what was typed."""
    words = text.split()
    if len(words) == 2 and words[0].casefold() == "/start":
        return words[1]
    return None


def _text_of(activity: Activity, personal: bool) -> str:
    """What the person typed: the bot's mention taken out (in a channel it is there), the
    HTML Teams may wrap text in read as text."""
    text = activity.text or ""
    if not personal or "<at>" in text:
        try:
            text = activity.remove_recipient_mention() or ""
        except Exception:  # an entity the SDK cannot read: the text as it is
            text = activity.text or ""
    text = html.unescape(_strip_tags(text)).strip()
    return text


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)
