"""Core forms as one Adaptive Card with inputs (Teams' counterpart of Slack's modals), and a
submitted card translated into `Core.submit_form`.

The command table says which command shows which form whole (its row's `form`): the intake
(`/leaver`, the "Add a leaver" button), the placement (`/placed REF`, the Placement button),
the correction (`/edit REF`) and a new person of the directory (`/admin add`). What a form is
about is checked by the core before it is shown (`common.forms`: a refusal instead of a form
that cannot be submitted); here is how it looks as a card: one input per field of the core's
form, in its order, so that the card and the guided conversation ask the same questions and
are checked by the same rules. A field with choices is a choice set (the roles several at
once), the placement's start a date input set to today, any other a text input. Pressing the
card's Confirm sends its inputs back (Teams puts them in the message's `value`, beside the
form's name and what it is about); the form's own parsers check them. Problems come back as
the card again, filled in as sent, with the problems above the inputs; once it is right the
core's confirmation is posted. The command with "chat" (or gesprek) after it starts the guided
conversation instead. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.admin.people import ADD_PERSON
from bot.core.commands import COMMANDS, Command
from bot.core.conversation import CONFIRM
from bot.core.followup.followups import PLACEMENT_FORM
from bot.core.forms import FORMS
from bot.core.i18n import Translator
from bot.core.intake.correct import EDIT_FORM
from bot.core.intake.leaver_form import LEAVER_FORM
from bot.core.vocab import label
from bot.handlers.common.forms import Opening
from bot.handlers.common.who import Who
from bot.handlers.teams.render import CARD_SCHEMA, CARD_VERSION, escape

FORM_KEY = "vangnet_form"  # the key of a submitted card's value that names its form
CONTEXT_KEY = "vangnet_about"  # … and what it is about (the case), as the core gave it
# the forms shown as a card on Teams, and their inputs that take several choices
CARD_FORMS: dict[str, frozenset[str]] = {
    LEAVER_FORM.name: frozenset(),
    EDIT_FORM.name: frozenset(),
    PLACEMENT_FORM.name: frozenset(),
    ADD_PERSON.name: frozenset({"roles"}),
}
DATES = frozenset({"start"})  # inputs that take a date (the placement's start)
ABOUT_A_CASE = frozenset({EDIT_FORM.name, PLACEMENT_FORM.name})
# typed after the command, they start the guided conversation instead of the card
CONVERSATION_WORDS = frozenset({"chat", "gesprek", "conversation"})
MAX_PLACEHOLDER = 200


def card_form(who: Who, text: str) -> tuple[str, str] | None:
    """The form whose card typing `text` opens for `who`, and the arguments typed, or None:
    the core answers it as typed (no such form, not theirs, a school they lack, other
    arguments, no case named for a form about one, or "chat")."""
    if not text.startswith("/"):
        return None
    name, _, args = text[1:].partition(" ")
    command: Command | None = COMMANDS.get(name.casefold())
    rules = command.form if command is not None else None
    if command is None or rules is None or rules.name not in CARD_FORMS:
        return None
    if command.name not in who.commands or (rules.own_school and who.school_id is None):
        return None
    words = args.split()
    if any(word.casefold() in CONVERSATION_WORDS for word in words):
        return None
    if rules.args is not None and args.strip() != rules.args:
        return None
    if rules.name in ABOUT_A_CASE and not words:
        return None
    return rules.name, args.strip()


def form_card(
    t: Translator,
    opened: Opening,
    *,
    values: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Adaptive Card showing the form `opened` whole, filled in (with `values` as sent,
    when it comes back with `problems`, by field name, above its inputs)."""
    form = opened.form
    initial = dict(opened.initial) if values is None else dict(values)
    several = CARD_FORMS.get(form.name, frozenset())
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": escape(t(form.title)), "weight": "Bolder", "wrap": True}
    ]
    if opened.intro:
        body.append({"type": "TextBlock", "text": escape(opened.intro), "wrap": True})
    for name, problem in (problems or {}).items():
        shown = t(form.field(name).label) if any(f.name == name for f in form.fields) else ""
        text = f"{shown}: {problem}" if shown else problem
        body.append({"type": "TextBlock", "text": escape(text), "color": "Attention", "wrap": True})
    for spec in form.fields:
        hint = t(spec.question) + (("\n" + t(spec.help)) if spec.help else "")
        field: dict[str, Any] = {
            "id": spec.name,
            "label": t(spec.label),
            "isRequired": spec.required,
        }
        if spec.required:
            field["errorMessage"] = hint[:MAX_PLACEHOLDER]
        if spec.choices:
            field.update(
                {
                    "type": "Input.ChoiceSet",
                    "style": "compact",
                    "isMultiSelect": spec.name in several,
                    "choices": [{"title": label(t, c), "value": c} for c in spec.choices],
                }
            )
        elif spec.name in DATES:
            field["type"] = "Input.Date"
            if opened.today:
                field["value"] = opened.today
        else:
            field.update(
                {
                    "type": "Input.Text",
                    "placeholder": hint[:MAX_PLACEHOLDER],
                    "isMultiline": spec.name == "notes",
                }
            )
        if initial.get(spec.name):
            field["value"] = initial[spec.name]
        body.append(field)
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "actions": [
            {
                "type": "Action.Submit",
                "title": t(CONFIRM),
                "data": {FORM_KEY: form.name, CONTEXT_KEY: dict(opened.context)},
            }
        ],
    }


def submitted(value: Any) -> tuple[str, dict[str, str], dict[str, str]] | None:
    """A submitted form card's form name, its inputs by field name (empty ones left out) and
    what it is about (the case), or None when `value` is not a form card's."""
    if not isinstance(value, dict):
        return None
    name = value.get(FORM_KEY)
    if not isinstance(name, str) or name not in CARD_FORMS or name not in FORMS:
        return None
    fields = {f.name for f in FORMS[name].fields}
    values = {
        key: str(given).strip()
        for key, given in value.items()
        if key in fields and isinstance(given, str | int) and str(given).strip()
    }
    about = value.get(CONTEXT_KEY)
    context = (
        {k: v for k, v in about.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(about, dict)
        else {}
    )
    if name in ABOUT_A_CASE and not context.get("ref"):
        return None
    return name, values, context
