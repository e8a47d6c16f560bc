"""Slack modals: the intake and placement modals opened, and a submitted one translated into
`Core.submit_form` (the form's own parsers check it; the same confirmation as the guided
conversation saves it). Field errors travel in the ack, keyed by the modal's block ids.

The command table says which command shows which form (its row's `form`: `/leaver`,
`/placed REF` and the Placement button, `/edit REF`, the coordinator's `/admin add`); here is
only how each form looks as a modal. A modal opens right after the ack, because Slack's
trigger id is only good for three seconds. Before the placement modal opens,
the core checks that the person may record that placement now; if not, they get the refusal
instead of a modal. `/placed REF chat` starts the guided conversation in the direct message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import clock
from bot.core.admin.people import ADD_PERSON
from bot.core.app import Core, FormOutcome
from bot.core.commands import Command
from bot.core.errors import Refused
from bot.core.followup.followups import PLACEMENT_FORM, check_placement
from bot.core.intake import correct
from bot.core.intake.leaver_form import LEAVER_FORM
from bot.core.replies import Reply
from bot.handlers.common import calls
from bot.handlers.common.who import Who
from bot.handlers.slack.inbound import FormSubmission
from bot.handlers.slack.sending import SlackSender
from bot.handlers.slack.views import (
    EDIT_CALLBACK,
    LEAVER_CALLBACK,
    PERSON_CALLBACK,
    PLACEMENT_CALLBACK,
    edit_modal,
    leaver_modal,
    person_modal,
    placement_modal,
)
from bot.store.db import session_scope
from bot.store.queries import person_by_id

TRANSPORT = "slack"
# `/leaver chat` and `/placed REF chat` start the guided conversation in the DM instead of
# opening the modal
CONVERSATION_WORDS = frozenset({"chat", "gesprek", "conversation"})
Tell = Callable[[list[Reply]], Awaitable[None]]
# opens a form's modal: (trigger id, who, the arguments typed, tell, the Slack user)
Opener = Callable[[str, Who, str, Tell, str], Awaitable[None]]


def context_of(event: FormSubmission) -> dict[str, Any]:
    """What the guided conversation would have started with: the placement modal carries its
    case in private_metadata; the leaver form is about the person's own school (the core's)."""
    if event.callback_id == PLACEMENT_CALLBACK:
        return {"ref": event.private_metadata, "mode": "place"}
    if event.callback_id == EDIT_CALLBACK:
        return {"ref": event.private_metadata}
    return {}


async def submit(core: Core, who: Who | None, event: FormSubmission) -> FormOutcome:
    """A submitted modal, checked and (when right) saved by the core."""
    if who is None:
        return FormOutcome(replies=[core.not_registered()])
    outcome = await calls.submitted(
        core,
        who,
        event.callback_id,  # a modal's callback id is its form's name
        event.values,
        context_of(event),
        transport=TRANSPORT,
    )
    if outcome.errors:
        return FormOutcome(errors=errors_for_modal(event, outcome.errors))
    return outcome


def errors_for_modal(event: FormSubmission, errors: dict[str, str]) -> dict[str, str]:
    """Field errors keyed by the modal's block ids; one without a block goes to the first."""
    blocks = list(event.values)
    out: dict[str, str] = {}
    for name, problem in errors.items():
        key = name if name in event.values else (blocks[0] if blocks else name)
        out[key] = f"{out[key]} {problem}" if key in out else problem
    return out


class SlackModals:
    def __init__(self, core: Core, client: AsyncWebClient, sender: SlackSender) -> None:
        self.core = core
        self.client = client
        self.sender = sender
        # how each form of the table is shown as a modal (the command table says which
        # command shows which form, and when); a test checks every form has one
        self._openers: dict[str, Opener] = {
            LEAVER_CALLBACK: self.open_leaver,
            PLACEMENT_CALLBACK: self.open_placement,
            PERSON_CALLBACK: self.open_person,
            EDIT_CALLBACK: self.open_edit,
        }

    async def open(
        self, command: Command, args: str, trigger_id: str, who: Who, tell: Tell, *, user: str
    ) -> bool:
        """The modal of `command`'s form (its row's `form`), typed with `args` or opened by a
        button; True when it is opened (or refused) here. False when the command has no
        form, is not for the person, needs a school they lack or other arguments (`/admin`
        without "add"): then the core answers the command as typed."""
        form = command.form
        if form is None or command.name not in who.commands:
            return False
        if form.own_school and who.school_id is None:
            return False
        if form.args is not None and args.strip() != form.args:
            return False
        await self._openers[form.name](trigger_id, who, args, tell, user)
        return True

    async def open_leaver(
        self, trigger_id: str, who: Who, args: str, tell: Tell, user: str
    ) -> None:
        """`/leaver` or "Add a leaver": the intake modal; `/leaver chat`: the conversation."""
        if args.casefold() in CONVERSATION_WORDS:
            replies = await calls.typed(self.core, who, "/leaver", transport=TRANSPORT)
            await self.sender.send_all(user, replies)
            return
        view = leaver_modal(who.t, LEAVER_FORM)
        await self.client.views_open(trigger_id=trigger_id, view=view)

    async def open_person(
        self, trigger_id: str, who: Who, args: str, tell: Tell, user: str
    ) -> None:
        await self.client.views_open(trigger_id=trigger_id, view=person_modal(who.t, ADD_PERSON))

    async def open_placement(
        self, trigger_id: str, who: Who, args: str, tell: Tell, user: str
    ) -> None:
        """`/placed REF` or the Placement button: the placement modal for case REF, if the core
        says the person may record it now; else its refusal. `/placed REF chat`: the guided
        conversation in the direct message."""
        ref, *rest = args.split() or [""]
        if not ref or any(word.casefold() in CONVERSATION_WORDS for word in rest):
            replies = await calls.typed(
                self.core, who, f"/placed {ref}".strip(), transport=TRANSPORT
            )
            if any(r.error for r in replies):
                await tell(replies)
            else:
                await self.sender.send_all(user, replies)
            return
        opened = await asyncio.to_thread(self._placement_view, who, ref)
        if isinstance(opened, View):
            await self.client.views_open(trigger_id=trigger_id, view=opened)
        else:
            await tell([opened])

    async def open_edit(self, trigger_id: str, who: Who, args: str, tell: Tell, user: str) -> None:
        """`/edit REF`: the leaver modal filled in with case REF, if the core says the person
        may correct it now; else its refusal. `/edit REF chat`: the guided conversation."""
        ref, *rest = args.split() or [""]
        if not ref or any(word.casefold() in CONVERSATION_WORDS for word in rest):
            replies = await calls.typed(self.core, who, f"/edit {ref}".strip(), transport=TRANSPORT)
            if any(r.error for r in replies):
                await tell(replies)
            else:
                await self.sender.send_all(user, replies)
            return
        opened = await asyncio.to_thread(self._edit_view, who, ref)
        if isinstance(opened, View):
            await self.client.views_open(trigger_id=trigger_id, view=opened)
        else:
            await tell([opened])

    def _edit_view(self, who: Who, ref: str) -> View | Reply:
        """The modal for correcting case `ref`, or why this person cannot correct it now."""
        with session_scope(self.core.engine) as session:
            actor = person_by_id(session, person_id=who.id)
            if actor is None or not actor.active:
                return self.core.not_registered()
            ctx = self.core.ctx(session, actor, transport=TRANSPORT, private=True)
            try:
                with session.begin_nested():
                    case = correct.check_edit(ctx, ref)
            except Refused as refusal:
                return Reply(text=refusal.message, error=True)
            return edit_modal(
                ctx.t, correct.EDIT_FORM, ref=case.ref, known=correct.known_answers(ctx, case)
            )

    def _placement_view(self, who: Who, ref: str) -> View | Reply:
        """The modal for case `ref`, or why this person cannot record its placement now."""
        with session_scope(self.core.engine) as session:
            actor = person_by_id(session, person_id=who.id)
            if actor is None or not actor.active:
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
