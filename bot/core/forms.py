"""Every form of the guided conversations, by name: the one table of them.

A conversation row names its form (`Form.name`), so any instance can continue it; the engine
is handed this table wherever it takes an answer, a button or a resume (`bot.core.commands`,
`bot.core.app`, the idle sweep). A new form is a row here.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.admin.people import ADD_PERSON, CHANGE_PERSON
from bot.core.admin.places import (
    ADD_MUNICIPALITY,
    ADD_SCHOOL,
    CHANGE_MUNICIPALITY,
    CHANGE_SCHOOL,
)
from bot.core.cases.withdrawal import WITHDRAW_FORM
from bot.core.conversation import Form
from bot.core.followup.followups import PLACEMENT_FORM
from bot.core.intake.correct import EDIT_FORM
from bot.core.intake.leaver_form import LEAVER_FORM
from bot.core.scan.agenda import ACTION_FORM, NOTE_FORM

FORMS: Mapping[str, Form] = {
    form.name: form
    for form in (
        LEAVER_FORM,
        EDIT_FORM,
        WITHDRAW_FORM,
        PLACEMENT_FORM,
        ACTION_FORM,
        NOTE_FORM,
        ADD_PERSON,
        CHANGE_PERSON,
        ADD_SCHOOL,
        CHANGE_SCHOOL,
        ADD_MUNICIPALITY,
        CHANGE_MUNICIPALITY,
    )
}
