"""A form is data: fields with a question, a parser, whether they are required, choices to
offer as buttons, and when they are asked at all. A conversation row names its form, so
any instance can continue it: the table of every form by name is `bot.core.forms.FORMS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.context import Ctx
from bot.core.conversation.fields import FieldError, ParseEnv
from bot.core.i18n import N_
from bot.core.replies import Reply

SUMMARY = "__summary__"
BACK, SKIP, CANCEL, CONFIRM, EDIT = N_("Back"), N_("Skip"), N_("Cancel"), N_("Confirm"), N_("Edit")
CONTINUE, AGAIN = N_("Continue where I was"), N_("Start again")
WORDS = {
    "back": {"back", "terug", "vorige"},
    "skip": {"skip", "overslaan", "sla over"},
    "cancel": {"cancel", "stop", "stoppen", "annuleren", "afbreken"},
    "confirm": {"confirm", "bevestigen", "ok", "klopt"},
    "edit": {"edit", "wijzigen", "aanpassen"},
}


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    question: str
    parse: Callable[[str, ParseEnv], Any]
    required: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    # asked only when this holds for the answers so far (values, already parsed)
    ask_if: Callable[[dict[str, Any]], bool] = lambda _a: True
    required_if: Callable[[dict[str, Any]], bool] | None = None
    # how a kept answer is shown in the question and the summary, when not as it is kept
    show: Callable[[Ctx, str], str] | None = None
    # choices that depend on the directory and the answers so far, as (value, label)
    # buttons (the schools of the municipality chosen before, say)
    options: Callable[[Ctx, dict[str, Any]], list[tuple[str, str]]] | None = None

    def is_required(self, values: dict[str, Any]) -> bool:
        return self.required or bool(self.required_if and self.required_if(values))


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    fields: tuple[FormField, ...]
    # called with the parsed answers when the person confirms; returns the final replies
    on_confirm: Callable[[Ctx, dict[str, Any], dict[str, Any]], list[Reply]]
    # what the summary says above "Is this right?" (what confirming will do), if anything
    summary_note: Callable[[Ctx, dict[str, Any], dict[str, Any]], str] | None = None
    # "Start again" of a form opened filled in (a correction): how to open it afresh, given
    # its context; by default it starts empty
    restart: Callable[[Ctx, dict[str, Any]], list[Reply]] | None = None

    def field(self, name: str) -> FormField:
        return next(f for f in self.fields if f.name == name)


def canonical(value: Any) -> str:
    """How a parsed value is kept in the conversation row; parsing it again gives it back."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def check_all(
    form: Form, raw: Mapping[str, str], env: ParseEnv
) -> tuple[dict[str, Any], dict[str, str]]:
    """A modal's answers checked with the form's own parsers, field by field in form order.

    A field the conversation would not ask (its ask_if does not hold for the answers before
    it) is ignored, whatever was typed in it; an empty field is refused only when required.
    Returns the parsed values and the problems by field name (the modal's block ids).
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in form.fields:
        if not spec.ask_if(values):
            continue
        text = raw.get(spec.name, "").strip()
        if not text:
            if spec.is_required(values):
                errors[spec.name] = env.t("This cannot be empty.")
            continue
        try:
            values[spec.name] = spec.parse(text, env)
        except FieldError as problem:
            errors[spec.name] = problem.message
            continue
        env.answers[spec.name] = values[spec.name]
    return values, errors
