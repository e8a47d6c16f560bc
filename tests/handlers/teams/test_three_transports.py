"""Slack, Telegram and Teams served by one process (`bot.handlers.serving.serve`), each
against its fake, with one scheduler's outbox: every person is reached on exactly one
transport (Slack first, then Telegram, then Teams), so a ping is never sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.core.app import Core
from bot.region import Region
from bot.region.file import DEMO_REGION_PATH, load_region
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person
from tests.factories import make_leaver
from tests.handlers.slack.conftest import slack_settings
from tests.handlers.slack.fake_slack import FakeSlack
from tests.handlers.teams.conftest import WIM, serving, teams_settings
from tests.handlers.teams.rig import LocalMicrosoft, activity, texts
from tests.handlers.telegram.fake_telegram import DEFAULT_TOKEN, FakeTelegram
from tests.handlers.telegram.rig import telegram_settings

FATIMA_TELEGRAM = 1002
TEUN = "0a0a0a0a-0000-4000-8000-000000007e07"  # a broker in Zwolle on Teams only
TEUN_ENTRY = "  - {id: teun, name: Teun Vos, roles: [broker], municipality: Zwolle}\n"


@pytest.fixture
def region(tmp_path: Path) -> Region:
    """The demo region with a third broker in Zwolle, on none of Slack and Telegram."""
    text = DEMO_REGION_PATH.read_text()
    anchor = "  # school contacts, one per school\n"
    assert anchor in text
    path = tmp_path / "region.yaml"
    path.write_text(text.replace(anchor, TEUN_ENTRY + anchor))
    return load_region(path)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.stop()


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram(token=DEFAULT_TOKEN).start()
    yield fake
    await fake.stop()


async def eventually(check: Any, timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()


async def test_one_process_serves_all_three_and_pings_each_broker_once(
    live_core: Core,
    local_microsoft: LocalMicrosoft,
    fake_slack: FakeSlack,
    fake_telegram: FakeTelegram,
) -> None:
    with session_scope(live_core.engine) as session:
        teun = session.get(Person, "teun")
        assert teun is not None
        teun.teams_id = TEUN
        session.add(teun)
    fake_telegram.add_private_chat(FATIMA_TELEGRAM)
    both = slack_settings(fake_slack)
    only_telegram = telegram_settings(fake_telegram, port=both.port)
    only_teams = teams_settings(port=both.port)
    settings = both.model_copy(
        update={
            name: getattr(only_telegram, name)
            for name in ("telegram_bot_token", "telegram_api_url")
        }
        | {
            name: getattr(only_teams, name)
            for name in ("teams_app_id", "teams_app_password", "teams_tenant_id")
        }
    )
    assert settings.slack_enabled and settings.telegram_enabled and settings.teams_enabled
    rig = local_microsoft
    async with serving(live_core, rig, settings) as served:
        for object_id, chat in ((TEUN, "a:personal-teun"), (WIM, "a:personal-wim")):
            body = activity(
                rig, object_id=object_id, kind="installationUpdate", action="add",
                conversation=chat,
            )  # fmt: skip
            assert await served.send(body) in (200, 202)
        rig.calls.clear()
        refs = [make_leaver(live_core, early_leaver="yes").ref for _ in range(3)]

        def delivered() -> bool:
            with session_scope(live_core.engine) as session:
                rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "due")).all()
                return len(rows) == 9 and all(r.sent_at is not None for r in rows)

        await eventually(delivered)
        with session_scope(live_core.engine) as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "due")).all()
            via = {(r.person_id, r.sent_via) for r in rows}
    assert via == {("wim", "slack"), ("fatima", "slack"), ("teun", "teams")}
    about = [a for a in rig.posted() if any(ref in texts(a) for ref in refs)]
    assert len(about) == 3 and all("a:personal-teun" in str(a["conversation"]) for a in about)
    on_telegram = [m for m in fake_telegram.sent_messages(FATIMA_TELEGRAM) if m.text]
    assert not any(ref in m.text for m in on_telegram for ref in refs)
