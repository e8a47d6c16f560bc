"""The table of forms (bot/core/forms.py) is the only list: a form the core defines and leaves
out of it could be started, but its next answer would find no form."""

from __future__ import annotations

import importlib
import pkgutil

import bot.core
from bot.core.commands import COMMANDS
from bot.core.conversation import Form
from bot.core.forms import FORMS


def defined_forms() -> dict[str, Form]:
    """Every form defined at the top of a module of the core, by where it is."""
    found: dict[str, Form] = {}
    for module_info in pkgutil.walk_packages(bot.core.__path__, "bot.core."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, Form):
                found.setdefault(f"{module_info.name}.{name}", value)
    return found


def test_every_form_of_the_core_is_in_the_table_by_its_name() -> None:
    defined = defined_forms()
    assert len(defined) >= len(FORMS)
    missing = {where for where, form in defined.items() if FORMS.get(form.name) is not form}
    assert not missing


def test_every_form_a_command_shows_whole_is_in_the_table() -> None:
    shown = {c.form.name for c in COMMANDS.values() if c.form is not None}
    assert shown and shown <= set(FORMS)
