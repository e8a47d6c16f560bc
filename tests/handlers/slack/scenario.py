"""Scenario helpers for the Slack tests: dates from the real today, what people read."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.core.i18n import translator
from bot.store.db import session_scope
from bot.store.models import Case, OutboxMessage
from tests.factories import make_leaver
from tests.handlers.slack.fake_slack import Call


def month(offset: int) -> str:
    """YYYY-MM, `offset` months from the real today."""
    today = clock.today(ZoneInfo("Europe/Amsterdam"))  # the region's today, as the core sees it
    y, m = divmod(today.month - 1 + offset, 12)
    return f"{today.year + y}-{m + 1:02d}"


def early_leaver(core: Core, *, school: str, by: str, **fields: Any) -> Case:
    """A leaver due at once: an early leaver who left this month."""
    defaults: dict[str, Any] = {"early_leaver": "yes", "expected_exit": month(0)}
    if school == "vlinder":
        defaults |= {"home_municipality": "Kampen", "programme": "vso", "vso_profile": "work"}
    return make_leaver(core, school=school, by=by, **(defaults | fields))


def text_of(call: Call) -> str:
    """Everything a message shows, as one string (the raw JSON of text and blocks)."""
    return json.dumps(
        {"text": call.body.get("text"), "blocks": call.body.get("blocks")}, ensure_ascii=False
    )


def nl_n(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The Dutch of a message whose wording depends on a count `n`."""
    return translator("nl").tn(singular, plural, n, **params)


def nl(message: str, /, **params: Any) -> str:
    """What a Dutch-speaking person reads (the people of the demo region without a language)."""
    return translator("nl")(message, **params)


REFUSAL = (
    "Sorry, you are not in the directory of this network, so I cannot help you. "
    "Ask your regional coordinator to add you."
)


def buttons_of(call: Call) -> dict[str, str]:
    """value → action_id of the buttons in a posted message."""
    return {
        e["value"]: e["action_id"]
        for b in call.body.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    }


def confirm_of(call: Call) -> tuple[str, str]:
    """The value and action_id of a posted summary's Confirm button (its value names the
    answers it confirms: "form:confirm:<fingerprint>")."""
    return next((v, a) for v, a in buttons_of(call).items() if v.startswith("form:confirm:"))


def cases(core: Core) -> list[Case]:
    with session_scope(core.engine) as session:
        return list(session.exec(select(Case)).all())


def case_row(core: Core, ref: str) -> Case:
    with session_scope(core.engine) as session:
        found = session.exec(select(Case).where(Case.ref == ref)).one()
        return found


def outbox(core: Core, person: str) -> list[OutboxMessage]:
    with session_scope(core.engine) as session:
        return list(
            session.exec(select(OutboxMessage).where(OutboxMessage.person_id == person)).all()
        )
