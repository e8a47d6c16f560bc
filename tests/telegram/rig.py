"""Vangnet's Telegram transport served against the fake Bot API (polling or webhook)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import Settings
from bot.core.app import Core
from bot.handlers.telegram.server import serve
from tests.slack.conftest import free_port
from tests.telegram.fake_telegram import DEFAULT_TOKEN, FakeTelegram, eventually


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
