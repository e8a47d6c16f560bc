"""Conversations left alone: reminded once after a working day of silence, dropped later."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlmodel import select

from bot.core import clock
from bot.core.context import Ctx
from bot.core.conversation.form import BACK, CANCEL, Form
from bot.core.replies import Button, Reply
from bot.store.models import Conversation


def sweep_idle(ctx: Ctx, forms: Mapping[str, Form]) -> None:
    """Remind a person once after a working day of silence; drop the conversation later."""
    from bot.core.calendar import working_days_later
    from bot.core.messaging import outbox
    from bot.store.models import Person

    now = clock.now()
    timeout = timedelta(days=ctx.region.schedule.conversation_timeout_days)
    for conv in ctx.session.exec(select(Conversation)).all():
        person = ctx.session.get(Person, conv.person_id)
        if person is None:
            continue
        t = ctx.translator_for(person)
        form = forms.get(conv.form)
        title = t(form.title) if form else ""
        if conv.updated_at + timeout <= now:
            ctx.session.delete(conv)
            outbox.enqueue(
                ctx.session,
                person_id=person.id,
                kind="conversation_dropped",
                reply=Reply(
                    title=title,
                    text=t(
                        "I stopped this conversation because it was left alone; nothing was saved."
                    ),
                ),
                once=f"{conv.id}:{conv.updated_at.isoformat()}",
            )
        elif (
            conv.reminded_at is None
            and working_days_later(conv.updated_at, 1, ctx.region.tz) <= now
        ):
            conv.reminded_at = now
            ctx.session.add(conv)
            outbox.enqueue(
                ctx.session,
                person_id=person.id,
                kind="conversation_reminder",
                reply=Reply(
                    title=title,
                    text=t(
                        "You had not finished this yet. Answer the last question, or press Cancel."
                    ),
                    buttons=[
                        Button(label=t(BACK), action="form:back"),
                        Button(label=t(CANCEL), action="form:cancel", style="danger"),
                    ],
                ),
                once=f"{conv.id}:{conv.updated_at.isoformat()}",
            )
