"""Withdrawing a case (product.md section 4: stays at school, or entered by mistake): asked
for a reason and confirmed, because the brokers stop working on it. The coordinator can undo
it with /reopen within the retention period.

```mermaid
flowchart LR
    withdraw["/withdraw REF"] --> reason
    withdraw_with_reason["/withdraw REF REASON"] --> summary
    reason -- stays at school / by mistake / typed --> summary
    summary -- confirm --> withdrawn["case withdrawn; owner, brokers with its card and school told"]
    summary -- cancel --> nothing
```
"""

from __future__ import annotations

from typing import Any

from bot.core import conversation
from bot.core.cases import actions, lifecycle
from bot.core.context import Ctx
from bot.core.conversation.fields import FieldError, ParseEnv, parse_text
from bot.core.i18n import N_
from bot.core.replies import Reply
from bot.core.vocab import label
from bot.store import queries

REASONS = ("stays_at_school", "mistake")


def parse_reason(raw: str, env: ParseEnv) -> str:
    """One of the usual reasons (by key or by its label), or a short reason in words."""
    text = raw.strip()
    for reason in REASONS:
        if text.casefold() in (reason, label(env.t, reason).casefold()):
            return reason
    try:
        return parse_text(lifecycle.REASON_MAX)(text, env)
    except FieldError:
        raise FieldError(
            env.t("Give a reason of at most {n} characters.", n=lifecycle.REASON_MAX)
        ) from None


def _about(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> str:
    case = lifecycle.get_in_scope(ctx, context["ref"])
    text = ctx.t(
        "Withdraw case {ref} ({student})? The brokers stop working on it.",
        ref=case.ref,
        student=case.student_ref,
    )
    if case.owner_id and case.owner_id != ctx.actor.id:
        owner = queries.person_by_id(ctx.session, person_id=case.owner_id)
        text += " " + ctx.t(
            "{name} has this case and will be told.", name=owner.name if owner else case.owner_id
        )
    return text


def _confirm(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    return [actions.withdraw(ctx, context["ref"], values["reason"])]


WITHDRAW_FORM = conversation.Form(
    name="withdraw",
    title=N_("Withdraw a case"),
    fields=(
        conversation.FormField(
            name="reason",
            label=N_("Reason"),
            question=N_("Why is this case withdrawn? Choose, or type a short reason (no names)."),
            parse=parse_reason,
            required=True,
            choices=REASONS,
        ),
    ),
    on_confirm=_confirm,
    summary_note=_about,
)


def start(ctx: Ctx, ref: str, reason: str) -> list[Reply]:
    """/withdraw REF [REASON]: checks at once, then asks the reason (if not given) and to
    confirm."""
    case = actions.check_withdraw(ctx, ref)
    return conversation.start(ctx, WITHDRAW_FORM, {"ref": case.ref}, answers={"reason": reason})
