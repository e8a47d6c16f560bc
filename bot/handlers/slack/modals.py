"""Slack modals submitted: checked with the form's own parsers before the ack (field errors
travel in the ack), then confirmed through the same core path as the guided conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core import clock
from bot.core.app import Core
from bot.core.commands import may_use
from bot.core.conversation import check_all
from bot.core.directory import person_by_slack
from bot.core.errors import Refused
from bot.core.followup.followups import PLACEMENT_FORM, place
from bot.core.intake.fields import ParseEnv
from bot.core.intake.leaver_form import LEAVER_FORM
from bot.core.intake.register import check_leaver
from bot.core.replies import Reply
from bot.handlers.slack.inbound import FormSubmission
from bot.store.db import session_scope

TRANSPORT = "slack"


@dataclass(frozen=True)
class Submitted:
    """The outcome of a modal submission: field errors for the modal, or replies to send."""

    errors: dict[str, str]
    replies: list[Reply]


def submit_leaver(core: Core, event: FormSubmission) -> Submitted:
    """Check the modal's answers like the conversation does; save when they are right."""
    with session_scope(core.engine) as session:
        actor = person_by_slack(session, event.user)
        if actor is None:
            return Submitted({}, [core.not_registered()])
        ctx = core.ctx(session, actor, transport=TRANSPORT, private=True)
        if not may_use(actor, "leaver") or actor.school_id is None:
            refusal = ctx.t("/{name} is not for your role. Type /help.", name="leaver")
            return Submitted({}, [Reply(text=refusal, error=True)])
        env = ParseEnv(t=ctx.t, today=clock.today(ctx.region.tz), session=session)
        checked = check_leaver(dict(event.values), env)
        if not checked.ok:
            return Submitted(_errors_for_modal(event, checked.errors), [])
        try:
            with session.begin_nested():
                replies = LEAVER_FORM.on_confirm(
                    ctx, checked.values, {"school_id": actor.school_id}
                )
        except Refused as refusal:
            return Submitted({}, [Reply(text=refusal.message, error=True)])
        return Submitted({}, replies)


def submit_placement(core: Core, event: FormSubmission) -> Submitted:
    """Check the placement modal with the form's own parsers; record it the core's way."""
    with session_scope(core.engine) as session:
        actor = person_by_slack(session, event.user)
        if actor is None:
            return Submitted({}, [core.not_registered()])
        ctx = core.ctx(session, actor, transport=TRANSPORT, private=True)
        if not may_use(actor, "placed"):
            refusal = ctx.t("/{name} is not for your role. Type /help.", name="placed")
            return Submitted({}, [Reply(text=refusal, error=True)])
        env = ParseEnv(t=ctx.t, today=clock.today(ctx.region.tz), session=session)
        values, errors = check_all(PLACEMENT_FORM, event.values, env)
        if errors:
            return Submitted(errors, [])
        try:
            with session.begin_nested():
                replies = place(ctx, event.private_metadata, values)
        except Refused as refusal:
            return Submitted({}, [Reply(text=refusal.message, error=True)])
        return Submitted({}, replies)


def _errors_for_modal(event: FormSubmission, errors: dict[str, Any]) -> dict[str, str]:
    """Field errors keyed by the modal's block ids; one without a block goes to the first."""
    blocks = list(event.values)
    out: dict[str, str] = {}
    for name, problem in errors.items():
        key = name if name in event.values else (blocks[0] if blocks else name)
        message = str(getattr(problem, "message", problem))
        out[key] = f"{out[key]} {message}" if key in out else message
    return out
