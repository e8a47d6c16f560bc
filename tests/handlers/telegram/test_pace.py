"""Telegram's pace, as the platform sees it: one new message a second in a chat, twenty a
minute in a group, thirty a second overall, and a person's own answer before the outbox's
notices to others; nothing lost on the way (a 429 waited out).

The first tests drive `TelegramPace` directly with short periods and say when each call
reached "Telegram" (the monotonic clock the pace runs on); the last ones run the real
python-telegram-bot against the fake Bot API, which records when each call arrived."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import time
from typing import Any

import pytest
from sqlmodel import select
from telegram.error import RetryAfter

from bot.core.app import Core
from bot.core.messaging import outbox
from bot.core.messaging.attempts import SENDING
from bot.core.replies import Reply
from bot.handlers.telegram import pace
from bot.handlers.telegram.pace import TelegramPace
from bot.store.db import session_scope
from bot.store.models import OutboxMessage
from tests.handlers.telegram import factories as tg
from tests.handlers.telegram.fake_telegram import FakeTelegram, eventually
from tests.handlers.telegram.rig import bot_said, running, telegram_settings, texts

ANNA = 1001
# A call is let go at one moment and reaches "Telegram" a moment later; on a loaded machine the
# process can be paused in between, so the gaps measured on arrival may come up this much short.
JITTER = 0.05
OTHERS = {"henk": 1004, "ruben": 1005, "sara": 1003, "noor": 1007, "ilse": 1008, "dirk": 1009}


class Telegram:
    """Where the paced calls arrive: (what, chat, when) in the order they came."""

    def __init__(self) -> None:
        self.arrived: list[tuple[str, Any, float]] = []
        self.refuse: list[float] = []  # retry_after seconds of the next calls refused with 429

    async def call(self, what: str, chat: Any) -> bool:
        self.arrived.append((what, chat, time.monotonic()))
        if self.refuse:
            raise RetryAfter(dtm.timedelta(seconds=self.refuse.pop(0)))
        return True

    def times(self, chat: Any) -> list[float]:
        return [at for _, c, at in self.arrived if c == chat]

    def order(self) -> list[str]:
        return [what for what, _, _ in self.arrived]


async def paced(
    limiter: TelegramPace, telegram: Telegram, what: str, endpoint: str, chat: Any
) -> object:
    data = {} if chat is None else {"chat_id": chat}
    return await limiter.process_request(
        telegram.call, (what, chat), {}, endpoint, data, rate_limit_args=None
    )


async def notice(limiter: TelegramPace, telegram: Telegram, what: str, chat: Any) -> object:
    """A send the outbox makes (its message's id is SENDING while it is sent)."""
    token = SENDING.set(1)
    try:
        return await paced(limiter, telegram, what, "sendMessage", chat)
    finally:
        SENDING.reset(token)


async def test_new_messages_in_one_chat_are_a_whole_interval_apart() -> None:
    limiter = TelegramPace(private_interval=0.2)
    telegram = Telegram()
    for n in range(3):
        await paced(limiter, telegram, f"m{n}", "sendMessage", ANNA)
    first, second, third = telegram.times(ANNA)
    assert second - first >= 0.2 and third - second >= 0.2


async def test_an_edit_and_another_chat_do_not_wait_for_a_chats_interval() -> None:
    limiter = TelegramPace(private_interval=30.0)
    telegram = Telegram()
    await paced(limiter, telegram, "message", "sendMessage", ANNA)
    await asyncio.wait_for(paced(limiter, telegram, "edit", "editMessageText", ANNA), 5)
    await asyncio.wait_for(paced(limiter, telegram, "other", "sendMessage", 1004), 5)
    await asyncio.wait_for(paced(limiter, telegram, "button", "answerCallbackQuery", None), 5)
    assert telegram.order() == ["message", "edit", "other", "button"]


async def test_a_group_gets_its_rate_per_period_and_no_more() -> None:
    limiter = TelegramPace(private_interval=0.0, group_rate=3, group_period=0.5)
    telegram = Telegram()
    group = -100123
    await asyncio.gather(
        *(paced(limiter, telegram, f"m{n}", "editMessageText", group) for n in range(5))
    )
    times = telegram.times(group)
    assert telegram.order() == ["m0", "m1", "m2", "m3", "m4"]  # in turn
    # 3 in any 0.5 s
    assert times[3] - times[0] >= 0.5 - JITTER and times[4] - times[1] >= 0.5 - JITTER


async def test_overall_no_more_than_the_rate_in_any_period() -> None:
    limiter = TelegramPace(overall_rate=4, overall_period=0.3)
    telegram = Telegram()
    await asyncio.gather(
        *(paced(limiter, telegram, f"m{n}", "sendMessage", 2000 + n) for n in range(10))
    )
    times = sorted(at for _, _, at in telegram.arrived)
    assert len(times) == 10
    gaps = [later - earlier for earlier, later in zip(times, times[4:], strict=False)]
    assert all(gap >= 0.3 - JITTER for gap in gaps), gaps


async def test_the_overall_rate_counts_new_messages_not_edits() -> None:
    """Twenty Claims at once are twenty card edits and twenty replies: the edits do not use up
    the thirty messages a second, so no reply waits for the next second."""
    limiter = TelegramPace(overall_rate=1, overall_period=30.0)
    telegram = Telegram()
    await paced(limiter, telegram, "message", "sendMessage", ANNA)
    await asyncio.wait_for(paced(limiter, telegram, "edit", "editMessageText", 1004), 5)
    later = asyncio.create_task(paced(limiter, telegram, "next", "sendMessage", 1005))
    await asyncio.sleep(0.1)
    assert telegram.order() == ["message", "edit"]  # the next message waits its second
    later.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await later


async def test_a_persons_own_answer_goes_before_the_notices_queued_for_others() -> None:
    limiter = TelegramPace(overall_rate=1, overall_period=0.1)
    telegram = Telegram()
    notices = [
        asyncio.create_task(notice(limiter, telegram, f"notice {n}", 2000 + n)) for n in range(6)
    ]
    await asyncio.sleep(0)  # all six are waiting (one already went)
    own = asyncio.create_task(paced(limiter, telegram, "own", "sendMessage", ANNA))
    await asyncio.gather(own, *notices)
    order = telegram.order()
    assert order.index("own") <= 2  # after the notice already under way, at most one more
    assert sorted(order) == sorted(["own", *(f"notice {n}" for n in range(6))])  # none lost


async def test_in_one_chat_the_persons_answer_goes_before_a_waiting_notice_to_them() -> None:
    limiter = TelegramPace(private_interval=0.2)
    telegram = Telegram()
    await paced(limiter, telegram, "first", "sendMessage", ANNA)
    waiting = asyncio.create_task(notice(limiter, telegram, "notice", ANNA))
    await asyncio.sleep(0)
    await paced(limiter, telegram, "answer", "sendMessage", ANNA)
    await waiting
    assert telegram.order() == ["first", "answer", "notice"]


async def test_a_429_holds_every_send_for_its_wait_and_each_is_sent_once_after() -> None:
    limiter = TelegramPace()
    telegram = Telegram()
    telegram.refuse = [0.3]
    await asyncio.gather(
        paced(limiter, telegram, "refused", "sendMessage", ANNA),
        paced(limiter, telegram, "other", "sendMessage", 1004),
    )
    order = telegram.order()
    assert order.count("refused") == 2 and order.count("other") == 1
    refused_at = telegram.times(ANNA)[0]
    assert all(at - refused_at >= 0.3 for what, _, at in telegram.arrived[1:])


async def test_still_refused_after_the_retries_it_raises_for_the_outbox_to_try_later() -> None:
    limiter = TelegramPace(retries=1)
    telegram = Telegram()
    telegram.refuse = [0.01, 0.01]
    with pytest.raises(RetryAfter):
        await paced(limiter, telegram, "refused", "sendMessage", ANNA)
    await asyncio.wait_for(paced(limiter, telegram, "later", "sendMessage", 1004), 5)


async def test_a_cancelled_send_gives_its_chat_back() -> None:
    limiter = TelegramPace(private_interval=0.0)
    telegram = Telegram()
    gate = asyncio.Event()

    async def hanging(*args: object) -> bool:
        await gate.wait()
        return True

    hung = asyncio.create_task(
        limiter.process_request(hanging, (), {}, "sendMessage", {"chat_id": ANNA}, None)
    )
    await asyncio.sleep(0.05)
    hung.cancel()
    await asyncio.wait_for(paced(limiter, telegram, "next", "sendMessage", ANNA), 5)
    assert telegram.order() == ["next"]


# --- the real python-telegram-bot against the fake Bot API ---------------------------------


async def test_start_sends_its_two_messages_a_second_apart(polling: FakeTelegram) -> None:
    """/start says welcome and shows /help: two messages, which Telegram receives at least a
    second apart (they came within milliseconds: a burst to one private chat)."""
    fake = polling
    fake.push_update(tg.private_message(ANNA, "/start"))
    await eventually(lambda: len(fake.sent_messages(ANNA)) >= 2)
    welcome, helping = [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == ANNA]
    assert "Welkom" in welcome.params["text"] and "/leavers" in helping.params["text"]
    assert helping.at - welcome.at >= pace.PRIVATE_INTERVAL


async def test_an_answer_overtakes_the_outbox_notices_to_others(
    live_core: Core, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six notices for six others wait their turn (two a second here) when Anna types /help:
    her answer is sent next, not after them, and every notice still arrives."""
    monkeypatch.setattr(pace, "OVERALL_RATE", 1)
    monkeypatch.setattr(pace, "OVERALL_PERIOD", 0.5)
    fake = fake_telegram
    for chat in (ANNA, *OTHERS.values()):
        fake.add_private_chat(chat)
    async with running(live_core, telegram_settings(fake), fake):
        with session_scope(live_core.engine) as session:
            for person in OTHERS:
                outbox.enqueue(session, person_id=person, kind="test", reply=Reply(text="notice"))

        def notices() -> list[float]:
            return [c.at for c in fake.calls_to("sendMessage") if c.params["text"] == "notice"]

        await eventually(lambda: len(notices()) >= 1)
        fake.push_update(tg.private_message(ANNA, "/help"))
        await bot_said(fake, ANNA, "/leavers")
        answered = next(c.at for c in fake.calls_to("sendMessage") if c.params["chat_id"] == ANNA)
        assert sum(1 for at in notices() if at < answered) <= 3  # of six

        def all_sent() -> bool:
            with session_scope(live_core.engine, write=False) as session:
                rows = session.exec(select(OutboxMessage)).all()
            return len(rows) == len(OTHERS) and all(r.sent_at is not None for r in rows)

        await eventually(all_sent, timeout=20)
    for chat in OTHERS.values():
        assert texts(fake, chat) == ["notice"]  # each once, none lost
