"""Vangnet's Telegram transport served against the fake Bot API (polling or webhook)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import Settings
from bot.core.app import Core
from bot.handlers.telegram.server import serve
from tests.handlers.slack.conftest import free_port
from tests.handlers.telegram.fake_telegram import DEFAULT_TOKEN, FakeTelegram, eventually


def telegram_settings(fake: FakeTelegram, **changes: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": None,
        "telegram_bot_token": DEFAULT_TOKEN,
        "telegram_api_url": fake.api_root,
        "telegram_webhook_url": None,
        "telegram_webhook_secret": None,
        "port": free_port(),
    }
    values.update(changes)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@asynccontextmanager
async def running(core: Core, settings: Settings, fake: FakeTelegram) -> AsyncIterator[None]:
    """serve(...) until the block ends; ready once it polls (or has set its webhook)."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(core, settings, stop=stop, host="127.0.0.1", delivery_seconds=0.2, poll_timeout=1)
    )

    def ready() -> bool:
        if task.done():
            task.result()  # raises what stopped it
        return bool(fake.webhook) if settings.telegram_webhook_url else fake.polls_waiting > 0

    try:
        await eventually(ready, timeout=15)
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


def texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    """What the bot shows in a chat now (edits applied), oldest first."""
    return [m.text for m in fake.chat_view(chat_id) if m.from_bot]


async def bot_said(fake: FakeTelegram, chat_id: int, words: str) -> str:
    """Wait until the bot shows `words` in the chat; the last such message."""
    found: list[str] = []

    def check() -> bool:
        found[:] = [t for t in texts(fake, chat_id) if words in t]
        return bool(found)

    try:
        await eventually(check)
    except AssertionError:
        said = texts(fake, chat_id)
        raise AssertionError(f"the bot never said {words!r}; it said {said}") from None
    return found[-1]
