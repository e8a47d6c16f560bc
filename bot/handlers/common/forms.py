"""Opening a form whole (a platform's own form: Slack's modal, a Teams card with inputs): what
the form is about, checked by the core before it is shown.

The command table says which command shows which form whole (`Command.form`). Before a form
about a case is shown, the core checks that the person may do that now (record the placement:
`followups.check_placement`; correct the case: `correct.check_edit`), so they get the refusal
instead of a form they cannot submit. What the form carries back on submission (`context`:
the case) and what it shows filled in (`initial`: the case's answers, for a correction) come
from here; how it looks is the transport's. Blocking: async callers run it in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core import clock
from bot.core.app import Core
from bot.core.conversation import Form
from bot.core.errors import Refused
from bot.core.followup.followups import PLACEMENT_FORM, check_placement
from bot.core.forms import FORMS
from bot.core.intake import correct
from bot.core.replies import Reply
from bot.handlers.common.who import Who
from bot.store.db import session_scope
from bot.store.queries import person_by_id


@dataclass(frozen=True)
class Opening:
    form: Form
    context: dict[str, str] = field(default_factory=dict)  # carried back on submission
    initial: dict[str, str] = field(default_factory=dict)  # shown filled in
    intro: str = ""  # translated: what the form is about
    today: str = ""  # the region's today (ISO), for a date input


def opening(core: Core, who: Who, form_name: str, args: str, *, transport: str) -> Opening | Reply:
    """`form_name` opened by `who` with the command's `args` (a case's REF for the placement
    and the correction): what to show, or the core's refusal."""
    form = FORMS[form_name]
    if form_name not in (PLACEMENT_FORM.name, correct.EDIT_FORM.name):
        return Opening(form)
    ref = args.split()[0] if args.split() else ""
    with session_scope(core.engine) as session:
        actor = person_by_id(session, person_id=who.id)
        if actor is None or not actor.active:
            return core.not_registered()
        ctx = core.ctx(session, actor, transport=transport, private=True)
        try:
            with session.begin_nested():
                if form_name == PLACEMENT_FORM.name:
                    case = check_placement(ctx, ref)
                    return Opening(
                        form,
                        context={"ref": case.ref, "mode": "place"},
                        intro=ctx.t(
                            "Record the placement of case {ref} ({student}).",
                            ref=case.ref,
                            student=case.student_ref,
                        ),
                        today=clock.today(ctx.region.tz).isoformat(),
                    )
                case = correct.check_edit(ctx, ref)
                return Opening(
                    form,
                    context={"ref": case.ref},
                    initial=correct.known_answers(ctx, case),
                    intro=ctx.t("You are correcting case {ref}.", ref=case.ref),
                )
        except Refused as refusal:
            return Reply(text=refusal.message, error=True)
