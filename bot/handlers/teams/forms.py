"""Core forms as one Adaptive Card with inputs (Teams' counterpart of Slack's modals), and a
submitted card translated into `Core.submit_form`.

The command table says which command shows which form whole (its row's `form`); here is how
the intake (`/leaver`, the "Add a leaver" button) and a new person of the directory
(`/admin add`) look as a card: one input per field of the core's form, in its order, so that
the card and the guided conversation ask the same questions and are checked by the same
rules. A field with choices is a choice set (the roles several at once), any other a text
input. Pressing the card's Confirm sends its inputs back (Teams puts them in the message's
`value`, beside the form's name); the form's own parsers check them. Problems come back as
the card again, filled in as sent, with the problems above the inputs; once it is right the
core's confirmation is posted. `/leaver chat` (or gesprek) starts the guided conversation
instead, which is also how the placement and a correction are recorded on Teams. Pure
functions, but for the translation of a submitted card.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.admin.people import ADD_PERSON
from bot.core.commands import COMMANDS, Command
from bot.core.conversation import CONFIRM, Form
from bot.core.conversation.form import FORMS
from bot.core.i18n import Translator
from bot.core.intake.leaver_form import LEAVER_FORM
from bot.core.vocab import label
from bot.handlers.common.who import Who
from bot.handlers.teams.render import CARD_SCHEMA, CARD_VERSION, escape

FORM_KEY = "vangnet_form"  # the key of a submitted card's value that names its form
# the forms shown as a card on Teams, and their inputs that take several choices
CARD_FORMS: dict[str, frozenset[str]] = {
    LEAVER_FORM.name: frozenset(),
    ADD_PERSON.name: frozenset({"roles"}),
}
# typed after the command, they start the guided conversation instead of the card
CONVERSATION_WORDS = frozenset({"chat", "gesprek", "conversation"})
MAX_PLACEHOLDER = 200


def card_form(who: Who, text: str) -> Form | None:
    """The form whose card typing `text` opens for `who`, or None: the core answers it as
    typed (no such form, not theirs, a school they lack, other arguments, or "chat")."""
    if not text.startswith("/"):
        return None
    name, _, args = text[1:].partition(" ")
    command: Command | None = COMMANDS.get(name.casefold())
    rules = command.form if command is not None else None
    if command is None or rules is None or rules.name not in CARD_FORMS:
        return None
    if command.name not in who.commands or (rules.own_school and who.school_id is None):
        return None
    if args.strip().casefold() in CONVERSATION_WORDS:
        return None
    if rules.args is not None and args.strip() != rules.args:
        return None
    return FORMS[rules.name]


def form_card(
    t: Translator,
    form: Form,
    *,
    initial: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Adaptive Card showing `form` whole, filled in with `initial`, with `problems`
    (by field name) above its inputs."""
    initial = initial or {}
    several = CARD_FORMS.get(form.name, frozenset())
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": escape(t(form.title)), "weight": "Bolder", "wrap": True}
    ]
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
        "actions": [{"type": "Action.Submit", "title": t(CONFIRM), "data": {FORM_KEY: form.name}}],
    }


def submitted(value: Any) -> tuple[str, dict[str, str]] | None:
    """A submitted form card's form name and its inputs by field name (empty ones left out),
    or None when `value` is not a form card's."""
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
    return name, values
