"""The Slack test rig: a fake Slack on 127.0.0.1 and Vangnet's Slack server in front of it.

No frozen clock here: Slack's signatures carry the real time, and the server's timeouts need a
clock that moves. Scenarios compute dates from the real today.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine

from bot.config import Settings
from bot.core.app import Core
from bot.core.directory import sync_region
from bot.handlers.slack.server import serve
from bot.region import Region
from bot.store.db import session_scope
from tests.handlers.slack.factories import SECRET, SlackRequest, signed_request
from tests.handlers.slack.fake_slack import FakeSlack, eventually

BOT_TOKEN = "xoxb-test-token"


@pytest.fixture
def live_core(engine: Engine, region: Region) -> Core:
    with session_scope(engine) as session:
        sync_region(session, region)
    return Core(engine=engine, region=region, default_language="nl")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def slack_settings(fake: FakeSlack, **changes: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_app_token": None,
        "slack_signing_secret": SECRET,
        "slack_api_url": fake.api_url,
        "port": free_port(),
    }
    values.update(changes)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@dataclass
class SlackRig:
    core: Core
    fake: FakeSlack
    url: str
    http: httpx.AsyncClient

    async def post(
        self,
        request: SlackRequest,
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        sent = {"Content-Type": request.content_type}
        if signed:
            sent.update(signed_request(request.body, secret, timestamp))
        sent.update(headers or {})
        return await self.http.post(
            f"{self.url}/slack/events", content=request.body.encode(), headers=sent
        )


@asynccontextmanager
async def running_slack(core: Core, settings: Settings) -> AsyncIterator[str]:
    """Vangnet's Slack server in HTTP mode on 127.0.0.1 (delivering every 0.2 s): its URL."""
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve(core, settings, stop=stop, host="127.0.0.1", delivery_seconds=0.2)
    )
    url = f"http://127.0.0.1:{settings.port}"
    async with httpx.AsyncClient(timeout=10.0) as http:

        async def ready() -> bool:
            if server.done():
                server.result()  # raises what stopped it
            try:
                return (await http.get(f"{url}/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, timeout=10)
    try:
        yield url
    finally:
        stop.set()
        await asyncio.wait_for(server, timeout=15)


@pytest.fixture
async def slack(live_core: Core, fake: FakeSlack) -> AsyncIterator[SlackRig]:
    """Vangnet's Slack server in HTTP mode on a free 127.0.0.1 port, delivering every 0.2 s."""
    async with (
        running_slack(live_core, slack_settings(fake)) as url,
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        yield SlackRig(core=live_core, fake=fake, url=url, http=http)
