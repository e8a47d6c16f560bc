"""Someone a chat cannot reach (issue 24 item 1): a Telegram user who blocked the bot is
marked unreachable after one attempt, the coordinator is told by name once, their case goes to
someone who can act on it, and the mark goes when they write again. A refused token leaves
every message waiting; a passing failure that lasts is told to the coordinator once."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select
from telegram.error import Forbidden, InvalidToken, TimedOut

from bot.core.app import Core
from bot.core.messaging.delivery import deliver_pending
from bot.core.replies import Reply
from bot.handlers.common.reach import TELEGRAM, address_on, reach_of
from bot.handlers.common.who import who_by_telegram
from bot.handlers.telegram import failures
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person
from tests.factories import make_leaver, one, press, say, text_of

HENK = "1004"  # the only broker of Hardenberg, on Telegram only
ANNA = "1001"  # the coordinator
RUNNING = frozenset({TELEGRAM})


class Telegram:
    """Telegram as the courier meets it: `refuse` maps a chat to the error it answers."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.tried: list[str] = []
        self.refuse: dict[str, Exception] = {}

    async def send(self, address: str, reply: Reply) -> None:
        self.tried.append(address)
        if address in self.refuse:
            raise self.refuse[address]
        if "*" in self.refuse:
            raise self.refuse["*"]
        self.sent.append((address, text_of(reply)))

    def to(self, address: str) -> list[str]:
        return [text for a, text in self.sent if a == address]


def deliver(core: Core, telegram: Telegram, health: dict[str, str]) -> int:
    return asyncio.run(
        deliver_pending(
            core.engine,
            via=TELEGRAM,
            address_of=address_on(TELEGRAM, RUNNING),
            send=telegram.send,
            reach=reach_of(core, RUNNING, failures.judge, health),
        )
    )


def henk(core: Core) -> Person:
    with session_scope(core.engine) as session:
        person = session.get(Person, "henk")
        assert person is not None
        return person


def due_for_henk(core: Core) -> str:
    case = make_leaver(
        core, home_municipality="Hardenberg", early_leaver="yes", expected_exit="2026-11"
    )
    return case.ref


def test_a_user_who_blocked_the_bot_is_tried_once_the_coordinator_told_and_the_case_sent_on(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    ref = due_for_henk(core)
    telegram, health = Telegram(), {}
    telegram.refuse[HENK] = Forbidden("Forbidden: bot was blocked by the user")
    for _ in range(4):
        deliver(core, telegram, health)
        frozen.shift(timedelta(minutes=10))
    assert telegram.tried.count(HENK) == 1  # not tried again and again
    told = [t for t in telegram.to(ANNA) if "Henk Mulder cannot be reached on Telegram (" in t]
    assert len(told) == 1 and "Telegram" in told[0] and ref in told[0]
    cards = [t for t in telegram.to(ANNA) if f"case {ref} comes to you" in t]
    assert len(cards) == 1  # the case reaches someone who can act on it
    assert health == {}

    listing = text_of(one(say(core, "anna", "/admin people broker")))
    assert "Henk Mulder" in listing and "cannot be reached on Telegram" in listing

    # Henk unblocks the bot and writes: the mark goes, and what waited for him is sent
    del telegram.refuse[HENK]
    assert who_by_telegram(core.engine, int(HENK), "en") is not None
    deliver(core, telegram, health)
    assert any(ref in t for t in telegram.to(HENK))
    assert henk(core).unreachable is None
    assert "cannot be reached" not in text_of(one(say(core, "anna", "/admin people broker")))


def test_the_digest_names_who_cannot_be_reached(core: Core) -> None:
    due_for_henk(core)
    telegram = Telegram()
    telegram.refuse[HENK] = Forbidden("Forbidden: user is deactivated")
    deliver(core, telegram, {})
    digest = text_of(say(core, "anna", "/digest")[0])
    assert "Cannot be reached: Henk Mulder (Telegram)" in digest


def test_a_refused_token_leaves_every_message_waiting_and_says_so(
    core: Core, frozen: time_machine.Coordinates, caplog: pytest.LogCaptureFixture
) -> None:
    due_for_henk(core)
    telegram, health = Telegram(), {}
    telegram.refuse["*"] = InvalidToken("Unauthorized")
    with caplog.at_level(logging.ERROR):
        deliver(core, telegram, health)
    assert "telegram" in health  # /healthz says degraded
    assert any(r.levelno == logging.ERROR and "token" in r.getMessage() for r in caplog.records)
    with session_scope(core.engine) as session:
        waiting = session.exec(select(OutboxMessage)).all()
        assert waiting and all(m.sent_at is None and m.dropped_at is None for m in waiting)
        assert all(m.attempts == 0 for m in waiting)
        assert all(not p.unreachable for p in session.exec(select(Person)).all())
    del telegram.refuse["*"]
    frozen.shift(timedelta(minutes=10))
    deliver(core, telegram, health)
    assert telegram.to(HENK) and health == {}


def test_a_passing_failure_that_lasts_a_day_is_told_to_the_coordinator_once(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    due_for_henk(core)
    telegram = Telegram()
    telegram.refuse[HENK] = TimedOut()
    for _ in range(5):
        deliver(core, telegram, {})
        frozen.shift(timedelta(hours=13))
    told = [t for t in telegram.to(ANNA) if "Henk Mulder" in t and "has not gone out" in t]
    assert len(told) == 1
    assert henk(core).unreachable is None  # passing: not marked


def test_while_marked_a_new_case_goes_to_someone_else_and_an_admin_change_takes_the_mark_away(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    due_for_henk(core)
    telegram, health = Telegram(), {}
    telegram.refuse[HENK] = Forbidden("Forbidden: bot was blocked by the user")
    deliver(core, telegram, health)
    later = due_for_henk(core)  # recorded for Henk while nobody reaches him
    deliver(core, telegram, health)
    deliver(core, telegram, health)
    assert [t for t in telegram.to(ANNA) if f"case {later} comes to you" in t]
    assert telegram.tried.count(HENK) == 1

    # the coordinator changes Henk (his new Telegram account is linked, say): tried again
    one(say(core, "anna", "/admin change henk"))
    assert one(press(core, "anna", "form:confirm")).text == "Henk Mulder is changed."
    assert henk(core).unreachable is None
    del telegram.refuse[HENK]
    deliver(core, telegram, health)
    assert any(later in t for t in telegram.to(HENK))
