"""The Telegram test rig: a fake Bot API on 127.0.0.1 and python-telegram-bot pointed at it.

What PTB 22 needs to talk to it (and to any Bot API root, TELEGRAM_API_URL):
- `base_url=f"{root}/bot"`, `base_file_url=f"{root}/file/bot"`: PTB appends the token, calls
  `{base_url}{token}/{method}` and turns getFile's file_path into
  `{base_file_url}{token}/{file_path}`;
- PTB posts form-urlencoded bodies (objects such as reply_markup JSON-encoded inside) and
  multipart when it uploads a file; the fake reads both, and JSON;
- HTTP/1.1 (PTB's default); getUpdates waits `timeout` seconds on the server and PTB adds that
  to the get_updates request's read timeout, so polling with `timeout=1` stops within a second;
- PTB_TIMEDELTA=true: without it PTB 22 warns whenever a time period is read as a number,
  RetryAfter's own constructor included, and pytest turns that warning into the error raised
  instead of RetryAfter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.core.app import Core
from bot.core.directory import sync_region
from bot.region import Region
from bot.store.db import session_scope
from tests.handlers.telegram.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.handlers.telegram.rig import running, telegram_settings


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


@pytest.fixture
def live_core(engine: Engine, region: Region) -> Core:
    """A Dutch core on the test database with the demo region (real clock: PTB needs one)."""
    with session_scope(engine) as session:
        sync_region(session, region)
    return Core(engine=engine, region=region, default_language="nl")


@pytest.fixture
async def polling(live_core: Core, fake_telegram: FakeTelegram) -> AsyncIterator[FakeTelegram]:
    """Vangnet's Telegram transport polling the fake."""
    async with running(live_core, telegram_settings(fake_telegram), fake_telegram):
        yield fake_telegram
