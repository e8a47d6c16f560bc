"""Guided conversations: forms asked one question at a time, their state in the database.
Every form by name is one table, `bot.core.forms.FORMS`, handed to the engine."""

from bot.core.conversation.engine import Forms, active, answer, press, resume, start
from bot.core.conversation.form import (
    BACK,
    CANCEL,
    CONFIRM,
    EDIT,
    SUMMARY,
    WORDS,
    Form,
    FormField,
    canonical,
    check_all,
)
from bot.core.conversation.idle import sweep_idle

__all__ = [
    "BACK",
    "CANCEL",
    "CONFIRM",
    "EDIT",
    "SUMMARY",
    "WORDS",
    "Form",
    "FormField",
    "Forms",
    "active",
    "answer",
    "canonical",
    "check_all",
    "press",
    "resume",
    "start",
    "sweep_idle",
]
