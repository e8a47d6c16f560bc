"""The Teams transport served by the product (`serving.serve`) with the real Agents SDK,
against the local Microsoft of `rig`: a token issuer reached through HTTPS_PROXY with a
throw-away CA, and a fake Bot Connector."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine

from bot.config import Settings
from bot.core.app import Core
from bot.core.directory import sync_region
from bot.handlers.serving import serve
from bot.region import Region
from bot.store.db import session_scope
from bot.store.models import Person
from tests.handlers.slack.conftest import free_port
from tests.handlers.teams.rig import APP_ID, TENANT, LocalMicrosoft

# people of the demo region, on Teams by their Entra object id
WIM = "0a0a0a0a-0000-4000-8000-00000000a11e"  # broker, Zwolle
ANNA = "0a0a0a0a-0000-4000-8000-0000000a4a4a"  # coordinator
FATIMA = "0a0a0a0a-0000-4000-8000-0000000fa71a"  # broker, Zwolle
SARA = "0a0a0a0a-0000-4000-8000-000000005a2a"  # school contact, De Brug (Zwolle)
DIRK = "0a0a0a0a-0000-4000-8000-00000000d12c"  # doorstroompunt
STRANGER = "0a0a0a0a-0000-4000-8000-00000000dead"  # not in the directory


@pytest.fixture(scope="module")
def microsoft(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMicrosoft]:
    """The local Microsoft, and the environment that leads there, for one test module (the
    proxy and CA variables are gone again before other tests run)."""
    rig = LocalMicrosoft(tmp_path_factory.mktemp("microsoft")).start()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HTTPS_PROXY", rig.proxy_url)
        env.setenv("https_proxy", rig.proxy_url)
        env.setenv("NO_PROXY", "127.0.0.1,localhost")
        env.setenv("no_proxy", "127.0.0.1,localhost")
        env.setenv("SSL_CERT_FILE", str(rig.ca_path))
        env.setenv("REQUESTS_CA_BUNDLE", str(rig.ca_path))
        urllib.request.install_opener(urllib.request.build_opener())  # reads the proxy now
        try:
            yield rig
        finally:
            urllib.request.install_opener(None)  # type: ignore[arg-type]
            rig.stop()


@pytest.fixture
def local_microsoft(microsoft: LocalMicrosoft) -> LocalMicrosoft:
    with microsoft.lock:
        microsoft.calls.clear()
        microsoft.files.clear()
        microsoft.file_requests.clear()
        microsoft.failures.clear()
    return microsoft


@pytest.fixture
def live_core(engine: Engine, region: Region) -> Core:
    """A Dutch core with the demo region; Wim, Fatima, Anna, Sara and Dirk on Teams."""
    with session_scope(engine) as session:
        sync_region(session, region)
        for person_id, object_id in (
            ("wim", WIM),
            ("anna", ANNA),
            ("fatima", FATIMA),
            ("sara", SARA),
            ("dirk", DIRK),
        ):
            person = session.get(Person, person_id)
            assert person is not None
            person.teams_id = object_id
            session.add(person)
    return Core(engine=engine, region=region, default_language="nl")


def teams_settings(**changes: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": None,
        "telegram_bot_token": None,
        "teams_app_id": APP_ID,
        "teams_app_password": "client-secret",
        "teams_tenant_id": TENANT,
        "port": free_port(),
    }
    values.update(changes)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@dataclass
class Served:
    url: str
    rig: LocalMicrosoft
    core: Core
    session: aiohttp.ClientSession

    async def send(self, body: Any, token: str | None = "", *, raw: bytes | None = None) -> int:
        """POST an activity with `token` (""': a good one; None: no Authorization)."""
        headers = {"Content-Type": "application/json"}
        if token == "":
            token = self.rig.token()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else None
        async with self.session.post(
            self.url, json=None if raw is not None else body, data=data, headers=headers
        ) as response:
            await response.read()
            return response.status


@asynccontextmanager
async def serving(core: Core, rig: LocalMicrosoft, settings: Settings) -> AsyncIterator[Served]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(core, settings, stop=stop, host="127.0.0.1", delivery_seconds=0.2)
    )
    url = f"http://127.0.0.1:{settings.port}/api/messages"
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            if task.done():
                task.result()
            try:
                async with session.get(f"http://127.0.0.1:{settings.port}/healthz") as r:
                    if r.status < 500:
                        break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        try:
            yield Served(url, rig, core, session)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)


@pytest.fixture
async def teams(live_core: Core, local_microsoft: LocalMicrosoft) -> AsyncIterator[Served]:
    async with serving(live_core, local_microsoft, teams_settings()) as served:
        yield served


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).parent / "fixtures"
