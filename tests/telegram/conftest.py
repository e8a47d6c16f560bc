"""The Telegram test rig: a fake Bot API on 127.0.0.1 and python-telegram-bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from tests.telegram.fake_telegram import DEFAULT_TOKEN, FakeTelegram


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns (an error here) when code reads a time period as int, RetryAfter's own
    constructor included; with PTB_TIMEDELTA set it gives timedeltas and stays quiet."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram(token=DEFAULT_TOKEN).start()
    yield fake
    await fake.stop()


def telegram_bot(fake: FakeTelegram, token: str = DEFAULT_TOKEN) -> Bot:
    """A real PTB Bot talking to the fake (HTTP/1.1, short timeouts so nothing hangs)."""
    return Bot(
        token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=HTTPXRequest(connect_timeout=2.0, read_timeout=5.0, write_timeout=5.0),
        get_updates_request=HTTPXRequest(connect_timeout=2.0, read_timeout=2.0),
    )


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    async with telegram_bot(fake_telegram) as ptb_bot:
        yield ptb_bot
