"""The follow-up question of a placed case: what its owner is asked (is the young person still
in the place recorded?), with the answers as buttons, and asking it anew of an owner the case
was handed to. When it is asked, reminded and escalated, and what an answer does, is the
follow-up journey's (`bot.core.followup.followups`); the question is the case's, so a handover
(`reassign`) can ask it without importing the journey.
"""

from __future__ import annotations

from bot.core.context import Ctx
from bot.core.i18n import N_
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.store import queries
from bot.store.models import Case

ANSWERS: dict[str, str] = {
    "ok": N_("Still in place"),
    "changed": N_("Changed place"),
    "dropped": N_("Dropped out"),
    "lost": N_("Lost contact"),
}


def question(ctx: Ctx, case: Case, owner_id: str, n: int, intro: str) -> Reply:
    """Follow-up `n` as its owner reads it: the intro, the question and the answers as buttons
    (`fu:<ref>:<n>:<answer>`)."""
    owner = queries.person_by_id(ctx.session, person_id=owner_id)
    t = ctx.translator_for(owner) if owner else ctx.t
    return Reply(
        text=t(intro, ref=case.ref, student=case.student_ref)
        + "\n"
        + t("Is the young person still in the place recorded for them?"),
        buttons=[
            Button(label=t(label), action=f"fu:{case.ref}:{n}:{answer}")
            for answer, label in ANSWERS.items()
        ],
        personal=True,
    )


def ask_new_owner(ctx: Ctx, case: Case) -> None:
    """The follow-up that waits for an answer, asked of the case's new owner (it was handed
    over to them)."""
    n = case.followup_open
    if n is None or case.owner_id is None:
        return
    outbox.enqueue(
        ctx.session,
        person_id=case.owner_id,
        kind="followup",
        reply=question(ctx, case, case.owner_id, n, N_("Follow-up for case {ref} ({student}).")),
        case_ref=case.ref,
        once=f"{n}:{case.placement_start}:{case.owner_id}",
    )
