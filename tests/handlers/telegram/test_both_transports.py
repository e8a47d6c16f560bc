"""Slack and Telegram served by one process (`bot.handlers.serving.serve`), each against its
fake: every person is reached on exactly one transport, so a ping is never sent twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.app import Core
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.region import Region
from bot.region_file import DEMO_REGION_PATH, load_region
from bot.store.db import session_scope
from bot.store.models import OutboxMessage
from tests.factories import make_leaver
from tests.handlers.slack.conftest import slack_settings
from tests.handlers.slack.fake_slack import FakeSlack
from tests.handlers.telegram.fake_telegram import FakeTelegram, eventually
from tests.handlers.telegram.rig import running, telegram_settings

FATIMA_TELEGRAM, KEES_TELEGRAM = 1002, 1010
KEES = "  - {id: kees, name: Kees Smit, roles: [broker], municipality: Zwolle, telegram: 1010}\n"


@pytest.fixture
def region(tmp_path: Path) -> Region:
    """The demo region with a third broker in Zwolle, on Telegram only: Wim is on Slack only
    and Fatima on both."""
    text = DEMO_REGION_PATH.read_text()
    anchor = "  # school contacts, one per school\n"
    assert anchor in text
    path = tmp_path / "region.yaml"
    path.write_text(text.replace(anchor, KEES + anchor))
    return load_region(path)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.stop()


async def test_one_process_serves_both_and_pings_each_broker_once_on_one_transport(
    live_core: Core, fake_telegram: FakeTelegram, fake_slack: FakeSlack
) -> None:
    both = slack_settings(fake_slack)
    only_telegram = telegram_settings(fake_telegram, port=both.port)
    settings = both.model_copy(
        update={
            name: getattr(only_telegram, name)
            for name in ("telegram_bot_token", "telegram_api_url")
        }
    )
    assert settings.slack_enabled and settings.telegram_enabled
    for chat in (FATIMA_TELEGRAM, KEES_TELEGRAM):
        fake_telegram.add_private_chat(chat)
    # Slack rate limits its first sends: Fatima's pings wait for Slack and never go by Telegram
    fake_slack.fail("chat.postMessage", 429, times=6)
    async with running(live_core, settings, fake_telegram):
        # three cases due at once for Zwolle's brokers: three pings each, all on one transport
        refs = [make_leaver(live_core, early_leaver="yes").ref for _ in range(3)]

        def delivered() -> bool:
            with session_scope(live_core.engine) as session:
                rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "due")).all()
                return len(rows) == 9 and all(r.sent_at is not None for r in rows)

        await eventually(delivered, timeout=15)
        # a later message on each transport: once both arrive, each delivery loop has gone
        # round again after the pings, and would have sent any ping twice by then
        with session_scope(live_core.engine) as session:
            for person in ("wim", "kees"):
                outbox.enqueue(session, person_id=person, kind="test", reply=Reply(text="later"))
        await eventually(
            lambda: (
                any("later" in str(c.body) for c in fake_slack.posted("D01WIM"))
                and any(m.text == "later" for m in fake_telegram.sent_messages(KEES_TELEGRAM))
            ),
            timeout=15,
        )
        with session_scope(live_core.engine) as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "due")).all()
            via = {(r.person_id, r.sent_via) for r in rows}
        assert via == {("wim", "slack"), ("fatima", "slack"), ("kees", "telegram")}
        pings = {
            "wim": [c for c in fake_slack.posted("D01WIM") if _about(str(c.body), refs)],
            "fatima on slack": [
                c for c in fake_slack.posted("D01FATIMA") if _about(str(c.body), refs)
            ],
            "fatima on telegram": [
                m for m in fake_telegram.sent_messages(FATIMA_TELEGRAM) if _about(m.text, refs)
            ],
            "kees": [m for m in fake_telegram.sent_messages(KEES_TELEGRAM) if _about(m.text, refs)],
        }
    counts = {who: len(sent) for who, sent in pings.items()}
    assert counts == {"wim": 3, "fatima on slack": 3, "fatima on telegram": 0, "kees": 3}


def _about(text: str, refs: list[str]) -> bool:
    return any(ref in text for ref in refs)
