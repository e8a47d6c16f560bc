"""A transport-neutral form engine: guided conversations whose state lives in the database.

A form is data: fields with a question, a parser, whether they are required, choices to offer
as buttons, and when they are asked at all. The engine asks one field at a time, checks each
answer at once, offers choices as buttons, and understands back, skip (optional fields only)
and cancel; it ends with a summary to confirm or edit. Its state — form, step, answers so far
(each kept in a canonical text form, so the row is plain JSON) — is one `conversation` row per
person, so a restart of the bot, or another instance, continues where the person was.

```mermaid
stateDiagram-v2
    [*] --> ask: start
    ask --> ask: valid answer / skip → next field that applies
    ask --> ask: invalid answer → same field, with the reason
    ask --> ask: back → previous field asked
    ask --> summary: no fields left
    summary --> ask: edit a field
    summary --> [*]: confirm → on_confirm
    ask --> [*]: cancel
    summary --> [*]: cancel
```
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlmodel import select

from bot.core import clock
from bot.core.context import Ctx
from bot.core.conversation.fields import FieldError, ParseEnv, full_date
from bot.core.conversation.form import (
    AGAIN,
    BACK,
    CANCEL,
    CONFIRM,
    CONTINUE,
    EDIT,
    SKIP,
    SUMMARY,
    WORDS,
    Form,
    FormField,
    canonical,
)
from bot.core.errors import Refused
from bot.core.replies import Button, Item, Reply
from bot.core.vocab import label
from bot.store.models import Conversation

# Every form by name (`bot.core.forms.FORMS`): a conversation row names its form.
Forms = Mapping[str, Form]


# --- the engine ------------------------------------------------------------------------------


def active(ctx: Ctx) -> Conversation | None:
    return ctx.session.exec(
        select(Conversation).where(Conversation.person_id == ctx.actor.id)
    ).first()


_ENGINE_KEYS = ("history", "editing")


def _own_context(conv: Conversation) -> dict[str, Any]:
    """What the caller passed to `start`, without the engine's own bookkeeping."""
    return {k: v for k, v in conv.context.items() if k not in _ENGINE_KEYS}


def start(
    ctx: Ctx,
    form: Form,
    context: dict[str, Any] | None = None,
    *,
    again: bool = False,
    answers: Mapping[str, str] | None = None,
    asked: Sequence[str] = (),
) -> list[Reply]:
    """Begin `form` for the actor; an earlier unfinished conversation is replaced.

    When the same form about the same thing is already under way with answers, nothing is
    thrown away unasked: the person chooses to continue where they were or to start again
    (`again=True` is that choice made). `answers` given already (typed with the command, or
    what is known when correcting) are checked at once, and only what is still missing is
    asked before the summary; an optional field named in `asked` counts as asked already
    (left empty on purpose), so a form opened filled in goes straight to its summary.
    """
    given: dict[str, str] = {}
    env = ParseEnv(t=ctx.t, today=clock.today(ctx.region.tz), session=ctx.session)
    for name, raw in (answers or {}).items():
        if not raw.strip():
            continue
        try:
            value = form.field(name).parse(raw, env)
        except FieldError as problem:
            raise Refused(problem.message) from None
        given[name] = canonical(value)
        env.answers[name] = value
    old = active(ctx)
    if (
        old is not None
        and not again
        and old.form == form.name
        and old.answers
        and _own_context(old) == (context or {})
    ):
        return [
            Reply(
                title=ctx.t(form.title),
                text=ctx.t(
                    "You had not finished this yet. Continue where you were, or start again? "
                    "Starting again throws away the answers you gave."
                ),
                buttons=[
                    Button(label=ctx.t(CONTINUE), action="form:resume", style="primary"),
                    Button(label=ctx.t(AGAIN), action="form:again", style="danger"),
                ],
                personal=True,
            )
        ]
    if old is not None:
        ctx.session.delete(old)
        ctx.session.flush()
    now = clock.now()
    conv = Conversation(
        person_id=ctx.actor.id,
        form=form.name,
        step="",
        answers=given,
        context={
            **(context or {}),
            "history": list(asked),
            "editing": bool(given) or bool(asked),
        },
        transport=ctx.transport,
        started_at=now,
        updated_at=now,
    )
    ctx.session.add(conv)
    return _advance(ctx, form, conv, after=None)


def resume(ctx: Ctx, forms: Forms) -> list[Reply]:
    """The actor's open conversation shown again where it is (its question, or the summary);
    nothing when there is none. For a transport that lost what it showed (a restart)."""
    conv = active(ctx)
    if conv is None or conv.form not in forms:
        return []
    form = forms[conv.form]
    if conv.step == SUMMARY:
        return [_summary(ctx, form, conv)]
    if not conv.step:
        return _advance(ctx, form, conv, after=None)
    return [_question(ctx, form, conv)]


def answer(ctx: Ctx, text: str, forms: Forms) -> list[Reply] | None:
    """A typed line for the actor's conversation; None when there is no conversation."""
    conv = active(ctx)
    if conv is None:
        return None
    form = forms[conv.form]
    word = text.strip().casefold()
    for action, words in WORDS.items():
        if word in words:
            return _control(ctx, form, conv, action)
    if conv.step == SUMMARY:
        return [_summary(ctx, form, conv, note=ctx.t("Press Confirm, Edit or Cancel."))]
    return _take(ctx, form, conv, text)


def press(ctx: Ctx, action: str, forms: Forms) -> list[Reply]:
    """A form button: 'form:back', 'form:choose:<value>', 'form:edit:<field>' …"""
    conv = active(ctx)
    if conv is None:
        raise Refused(ctx.t("This conversation has ended. Type /help to start again."))
    form = forms[conv.form]
    _, _, rest = action.partition(":")
    kind, _, arg = rest.partition(":")
    if kind == "choose":
        if conv.step == SUMMARY:
            return [_summary(ctx, form, conv)]
        return _take(ctx, form, conv, arg)
    if kind == "resume":
        return resume(ctx, forms)
    if kind == "again":
        if form.restart is not None:
            return form.restart(ctx, _own_context(conv))
        return start(ctx, form, _own_context(conv), again=True)
    if kind == "edit" and arg:
        if arg not in {f.name for f in form.fields}:
            raise Refused(ctx.t("That button no longer works. Type /help."))
        return _ask(ctx, form, conv, arg)
    if kind == "confirm" and arg and conv.step == SUMMARY and arg != _version(conv):
        # the Confirm of an earlier summary: the answers changed since, so they are shown
        # as they are now and confirmed only from there
        note = ctx.t("The answers changed after that summary. This is what would be saved now:")
        return [_summary(ctx, form, conv, note=note)]
    return _control(ctx, form, conv, kind)


def _version(conv: Conversation) -> str:
    """A short fingerprint of the answers a summary shows (and what they are about: the case
    of a correction), carried by its Confirm button."""
    kept = json.dumps(
        [conv.form, conv.answers, _own_context(conv)], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(kept.encode()).hexdigest()[:12]


def _control(ctx: Ctx, form: Form, conv: Conversation, action: str) -> list[Reply]:
    t = ctx.t
    if action == "cancel":
        ctx.session.delete(conv)
        return [Reply(text=t("Stopped. Nothing was saved."))]
    if action == "back":
        history: list[str] = list(conv.context.get("history", []))
        if conv.step == SUMMARY:
            if history:
                return _ask(ctx, form, conv, history[-1], record=False)
            # every answer came with the command: back to the last question that applies
            last = _applicable(form, _values(ctx, form, conv))[-1]
            return _ask(ctx, form, conv, last.name)
        if conv.step in history:
            index = history.index(conv.step)
            if index == 0:
                return [_question(ctx, form, conv, note=t("This is the first question."))]
            return _ask(ctx, form, conv, history[index - 1], record=False)
        return [_question(ctx, form, conv, note=t("This is the first question."))]
    if action == "skip":
        if conv.step == SUMMARY:
            return [_summary(ctx, form, conv)]
        spec = form.field(conv.step)
        if spec.is_required(_values(ctx, form, conv)):
            return [_question(ctx, form, conv, note=t("This question cannot be skipped."))]
        answers = dict(conv.answers)
        answers.pop(spec.name, None)
        conv.answers = answers
        return _advance(ctx, form, conv, after=spec.name)
    if action == "confirm":
        if conv.step != SUMMARY:
            return [_question(ctx, form, conv, note=t("First answer this question."))]
        values = _values(ctx, form, conv)
        context = dict(conv.context)
        ctx.session.delete(conv)
        ctx.session.flush()
        return form.on_confirm(ctx, values, context)
    if action == "edit":
        return [
            Reply(
                text=t("Which answer do you want to change?"),
                buttons=[
                    Button(label=t(f.label), action=f"form:edit:{f.name}")
                    for f in _applicable(form, _values(ctx, form, conv))
                ],
            )
        ]
    raise Refused(ctx.t("That button no longer works. Type /help."))


def _take(ctx: Ctx, form: Form, conv: Conversation, text: str) -> list[Reply]:
    spec = form.field(conv.step)
    env = _env(ctx, form, conv)
    try:
        value = spec.parse(text, env)
    except FieldError as problem:
        buttons = [Button(label=s, action=f"form:choose:{s}") for s in problem.suggestions]
        return [_question(ctx, form, conv, note=problem.message, extra=buttons, error=True)]
    conv.answers = {**conv.answers, spec.name: canonical(value)}
    # answers that no longer apply (a profile after switching away from VSO) are dropped
    values = _values(ctx, form, conv)
    conv.answers = {
        k: v for k, v in conv.answers.items() if form.field(k).ask_if(values) or k == spec.name
    }
    replies = _advance(ctx, form, conv, after=spec.name)
    if env.notes and replies:  # what the parser made of the answer: "Nieuwleusen is in Dalfsen"
        first = replies[0]
        replies[0] = first.model_copy(update={"text": "\n".join([*env.notes, first.text])})
    return replies


def _advance(ctx: Ctx, form: Form, conv: Conversation, *, after: str | None) -> list[Reply]:
    values = _values(ctx, form, conv)
    names = [f.name for f in form.fields]
    start_at = names.index(after) + 1 if after else 0
    editing = conv.context.get("editing", False)
    for spec in form.fields[start_at:]:
        if not spec.ask_if(values):
            continue
        asked = spec.name in conv.context.get("history", [])
        if editing and (spec.name in conv.answers or (asked and not spec.is_required(values))):
            continue  # after an edit, only ask what is new or still missing
        return _ask(ctx, form, conv, spec.name)
    conv.step = SUMMARY
    conv.context = {**conv.context, "editing": True}
    conv.updated_at = clock.now()
    ctx.session.add(conv)
    return [_summary(ctx, form, conv)]


def _ask(
    ctx: Ctx, form: Form, conv: Conversation, name: str, *, record: bool = True
) -> list[Reply]:
    history: list[str] = list(conv.context.get("history", []))
    if record and name not in history:
        history.append(name)
    conv.step = name
    conv.context = {**conv.context, "history": history}
    conv.updated_at = clock.now()
    conv.reminded_at = None
    ctx.session.add(conv)
    return [_question(ctx, form, conv)]


def _question(
    ctx: Ctx,
    form: Form,
    conv: Conversation,
    *,
    note: str = "",
    extra: list[Button] | None = None,
    error: bool = False,
) -> Reply:
    t = ctx.t
    spec = form.field(conv.step)
    values = _values(ctx, form, conv)
    buttons = list(extra or [])
    buttons += [Button(label=label(t, c), action=f"form:choose:{c}") for c in spec.choices]
    if spec.options is not None and not extra:  # the suggestions of an error replace them
        buttons += [
            Button(label=n, action=f"form:choose:{v}") for v, n in spec.options(ctx, values)
        ]
    buttons.append(Button(label=t(BACK), action="form:back"))
    if not spec.is_required(values):
        buttons.append(Button(label=t(SKIP), action="form:skip"))
    buttons.append(Button(label=t(CANCEL), action="form:cancel", style="danger"))
    text = t(spec.question)
    if spec.help:
        text += "\n" + t(spec.help)
    if spec.name in conv.answers:
        text += "\n" + t("Now: {value}", value=_shown(ctx, spec, conv.answers[spec.name]))
    if note:
        text = note + "\n" + text
    return Reply(
        title=t(form.title),
        text=text,
        buttons=buttons,
        error=error,
        personal=True,
        # a number typed is the answer, unless there are choices (or suggestions) to press
        asks_text=not spec.choices and not extra,
    )


def _summary(ctx: Ctx, form: Form, conv: Conversation, note: str = "") -> Reply:
    t = ctx.t
    values = _values(ctx, form, conv)
    fields = [
        Item(label=t(f.label), value=_shown(ctx, f, conv.answers[f.name]))
        for f in _applicable(form, values)
        if f.name in conv.answers
    ]
    text = t("Is this right?")
    if form.summary_note is not None:
        about = form.summary_note(ctx, values, dict(conv.context))
        if about:
            text = about + "\n" + text
    if note:
        text = note + "\n" + text
    return Reply(
        title=t(form.title),
        text=text,
        fields=fields,
        buttons=[
            Button(label=t(CONFIRM), action=f"form:confirm:{_version(conv)}", style="primary"),
            Button(label=t(EDIT), action="form:edit"),
            Button(label=t(BACK), action="form:back"),
            Button(label=t(CANCEL), action="form:cancel", style="danger"),
        ],
        personal=True,
    )


def _shown(ctx: Ctx, spec: FormField, raw: str) -> str:
    from bot.store.models import Municipality

    if spec.show is not None:
        return spec.show(ctx, raw)
    if spec.name.endswith("municipality"):
        m = ctx.session.get(Municipality, raw)
        return m.name if m else raw
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return full_date(ctx.t, date.fromisoformat(raw))
    if raw in ("yes", "no"):
        return ctx.t("yes") if raw == "yes" else ctx.t("no")
    if spec.choices:
        return label(ctx.t, raw)
    return raw


def _applicable(form: Form, values: dict[str, Any]) -> list[FormField]:
    return [f for f in form.fields if f.ask_if(values)]


def _env(ctx: Ctx, form: Form, conv: Conversation) -> ParseEnv:
    return ParseEnv(
        t=ctx.t,
        today=clock.today(ctx.region.tz),
        session=ctx.session,
        answers=_values(ctx, form, conv),
    )


def _values(ctx: Ctx, form: Form, conv: Conversation) -> dict[str, Any]:
    """The answers so far, parsed again from their canonical text, in form order."""
    env = ParseEnv(t=ctx.t, today=clock.today(ctx.region.tz), session=ctx.session)
    values: dict[str, Any] = {}
    for spec in form.fields:
        if spec.name in conv.answers:
            try:
                values[spec.name] = spec.parse(conv.answers[spec.name], env)
            except FieldError:
                continue  # no longer valid (a month that has passed): asked again at confirm
            env.answers[spec.name] = values[spec.name]
    return values
