"""Guided conversations: forms asked one question at a time, their state in the database."""

from bot.core.conversation.engine import active, answer, press, resume, start
from bot.core.conversation.form import (
    BACK,
    CANCEL,
    CONFIRM,
    EDIT,
    FORMS,
    SUMMARY,
    WORDS,
    Form,
    FormField,
    canonical,
    check_all,
    register,
)
from bot.core.conversation.idle import sweep_idle

__all__ = [
    "BACK",
    "CANCEL",
    "CONFIRM",
    "EDIT",
    "FORMS",
    "SUMMARY",
    "WORDS",
    "Form",
    "FormField",
    "active",
    "answer",
    "canonical",
    "check_all",
    "press",
    "register",
    "resume",
    "start",
    "sweep_idle",
]
