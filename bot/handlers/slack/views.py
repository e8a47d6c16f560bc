"""Core forms as Slack modals (views), built with slack_sdk's models. Pure functions.

The intake, the correction of a case, the placement and a new person of the directory: one
input block per field of the core's form, so that the modal and the guided conversation ask
the same questions and are checked by the same rules on submission. Block Kit's limits for
views are those of `render`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.conversation import CANCEL, CONFIRM, Form
from bot.core.i18n import N_, Translator
from bot.core.vocab import label
from bot.handlers.slack.render import (
    MAX_INPUT_LABEL,
    MAX_OPTION_TEXT,
    MAX_PRIVATE_METADATA,
    MAX_VIEW_TITLE,
    shorten,
    split_mrkdwn,
)

LEAVER_CALLBACK = "leaver"
PLACEMENT_CALLBACK = "placement"
PERSON_CALLBACK = "admin_person_add"
EDIT_CALLBACK = "leaver_edit"
ORGANISATION_NOTE = N_(
    "Leave this empty if the young person moved away or has no work and no school."
)


def leaver_modal(t: Translator, form: Form, *, private_metadata: str = "") -> View:
    """The intake modal: one input per field of the guided intake, in the same order.

    Fields asked only in some cases (the VSO profile, the personal details that need consent)
    are optional inputs here; the same checks as in the conversation decide on submission.
    """
    return form_modal(t, form, callback_id=LEAVER_CALLBACK, private_metadata=private_metadata)


def edit_modal(t: Translator, form: Form, *, ref: str, known: Mapping[str, str]) -> View:
    """The intake modal filled in with what is known of case `ref` (carried in
    private_metadata), to correct it; the summary of changes comes with the answer."""
    intro = t("You are correcting case {ref}.", ref=ref)
    return form_modal(
        t,
        form,
        callback_id=EDIT_CALLBACK,
        intro=intro,
        initial=known,
        private_metadata=ref,
    )


def placement_modal(t: Translator, form: Form, *, ref: str, student: str, today: date) -> View:
    """The placement form as a modal for case `ref` (carried in private_metadata): the
    destination to choose, the organisation (optional: not every destination has one) and the
    start date with a date picker, set to today in the region."""
    intro = t("Record the placement of case {ref} ({student}).", ref=ref, student=student)
    return form_modal(
        t,
        form,
        callback_id=PLACEMENT_CALLBACK,
        intro=intro,
        dates={"start": today},
        notes={"organisation": ORGANISATION_NOTE},
        private_metadata=ref,
    )


def person_modal(t: Translator, form: Form) -> View:
    """The coordinator's `/admin add`: the person form as a modal, the roles a multi-select
    and the Slack member a user select."""
    intro = t(
        "Without a Slack member or a Teams account the person gets a Telegram invite link. A "
        "municipality is needed for a broker, a school for a school contact."
    )
    return form_modal(
        t, form, callback_id=PERSON_CALLBACK, intro=intro, several={"roles"}, users={"slack"}
    )


def form_modal(
    t: Translator,
    form: Form,
    *,
    callback_id: str,
    intro: str = "",
    dates: Mapping[str, date] | None = None,
    notes: Mapping[str, str] | None = None,
    initial: Mapping[str, str] | None = None,
    private_metadata: str = "",
    several: frozenset[str] | set[str] = frozenset(),
    users: frozenset[str] | set[str] = frozenset(),
) -> View:
    """A core form as a modal: one input block per field, its block id the field's name.

    A field with choices is a static select (labels in the person's language; in `several`,
    a multi-select), a field in `users` a Slack user select, a field in
    `dates` a date picker starting at the given date, any other a text input. The field's
    question (and help, and a note from `notes`, translated here) is the input's hint. `intro`
    is raw text shown above the inputs. `initial` fills inputs in (a form's canonical answers).
    """
    initial = initial or {}
    blocks: list[Block] = (
        [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in split_mrkdwn(intro)]
        if intro
        else []
    )
    for spec in form.fields:
        hint = t(spec.question)
        for extra in (spec.help, (notes or {}).get(spec.name, "")):
            if extra:
                hint += "\n" + t(extra)
        element: (
            StaticSelectElement
            | StaticMultiSelectElement
            | UserSelectElement
            | PlainTextInputElement
            | DatePickerElement
        )
        if spec.choices and spec.name in several:
            element = StaticMultiSelectElement(
                action_id=spec.name,
                options=[
                    Option(value=c, label=shorten(label(t, c), MAX_OPTION_TEXT))
                    for c in spec.choices
                ],
            )
        elif spec.name in users:
            element = UserSelectElement(action_id=spec.name)
        elif spec.choices:
            options = [
                Option(value=c, label=shorten(label(t, c), MAX_OPTION_TEXT)) for c in spec.choices
            ]
            chosen = next((o for o in options if o.value == initial.get(spec.name)), None)
            element = StaticSelectElement(
                action_id=spec.name, options=options, initial_option=chosen
            )
        elif dates and spec.name in dates:
            element = DatePickerElement(
                action_id=spec.name, initial_date=dates[spec.name].isoformat()
            )
        else:
            element = PlainTextInputElement(
                action_id=spec.name,
                multiline=spec.name == "notes",
                initial_value=initial.get(spec.name),
            )
        blocks.append(
            InputBlock(
                block_id=spec.name,
                label=PlainTextObject(text=shorten(t(spec.label), MAX_INPUT_LABEL), emoji=False),
                hint=PlainTextObject(text=shorten(hint, MAX_INPUT_LABEL), emoji=False),
                element=element,
                optional=not spec.required,
            )
        )
    if len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError("private_metadata is longer than Slack allows")
    return View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=shorten(t(form.title), MAX_VIEW_TITLE)),
        submit=PlainTextObject(text=shorten(t(CONFIRM), MAX_VIEW_TITLE)),
        close=PlainTextObject(text=shorten(t(CANCEL), MAX_VIEW_TITLE)),
        blocks=blocks,
        private_metadata=private_metadata or None,
    )
