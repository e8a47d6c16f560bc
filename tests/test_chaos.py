"""Nothing lost, nothing doubled, from outside (issue 14): real `vangnet run` processes against
the fake Slack, stopped cleanly (SIGTERM) or killed (-9) mid-batch, through an outage of Slack
and of a PostgreSQL server the test runs itself. At the end Slack shows every message exactly
once (counted by the outbox id each message carries in its metadata).

The long ones are marked `chaos` (left out of a plain `pytest`; `.ci/run` runs them once, on
PostgreSQL): `pytest -m chaos`. Figures (how long recovery takes) are in
benchmarks/recovery.py, not here.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chaos import (
    Vangnet,
    have_postgres_server,
    own_postgres,
    prepare,
    prepare_cards,
    stranded,
    tally,
    unsent_leased,
)
from tests.handlers.slack.fake_slack import FakeSlack, eventually
from tests.handlers.telegram.fake_telegram import FakeTelegram

LEASE_AND_MORE = 200.0  # seconds: a message leased by a killed process waits out its lease


@pytest.fixture
async def slow_slack() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    slack.slow = 0.1  # a sender killed meanwhile has posted without recording it
    yield slack
    await slack.stop()


async def started(vangnet: Vangnet) -> Vangnet:
    await vangnet.start()
    await eventually(vangnet.healthy, timeout=60)
    return vangnet


async def test_sigterm_mid_batch_releases_what_it_leased_and_a_restart_sends_the_rest(
    database_url: str, slow_slack: FakeSlack, tmp_path: Path
) -> None:
    ids = prepare(database_url, 40)
    one = await started(Vangnet(database_url, slow_slack, tmp_path))
    await eventually(lambda: sum(tally(slow_slack, ids).posted.values()) >= 5, timeout=60)
    assert await one.terminate() == 0
    assert not tally(slow_slack, ids).complete  # stopped half-way through the batch
    assert unsent_leased(database_url) == 0  # nothing left waiting for a lease to run out

    two = await started(Vangnet(database_url, slow_slack, tmp_path))
    try:
        await eventually(lambda: tally(slow_slack, ids).complete, timeout=60)
    finally:
        await two.terminate()
    assert tally(slow_slack, ids).doubled == 0


async def test_a_slack_outage_delays_messages_but_loses_and_doubles_none(
    database_url: str, slow_slack: FakeSlack, tmp_path: Path
) -> None:
    ids = prepare(database_url, 30)
    vangnet = await started(Vangnet(database_url, slow_slack, tmp_path))
    try:
        await eventually(lambda: sum(tally(slow_slack, ids).posted.values()) >= 3, timeout=60)
        port = slow_slack.port
        await slow_slack.stop()  # Slack refuses connections
        await asyncio.sleep(3)  # the outage
        await slow_slack.start(port)
        await eventually(lambda: tally(slow_slack, ids).complete, timeout=90)
        assert await vangnet.healthy()
    finally:
        await vangnet.terminate()
    assert tally(slow_slack, ids).doubled == 0


needs_postgres_server = pytest.mark.skipif(
    not have_postgres_server(), reason="initdb and pg_ctl are not installed"
)


@pytest.mark.chaos
@needs_postgres_server
async def test_a_postgresql_outage_loses_and_doubles_nothing(
    slow_slack: FakeSlack, tmp_path: Path
) -> None:
    with own_postgres() as pg:
        ids = prepare(pg.url, 60)
        vangnet = await started(Vangnet(pg.url, slow_slack, tmp_path))
        try:
            await eventually(lambda: sum(tally(slow_slack, ids).posted.values()) >= 5, timeout=60)
            pg.stop()  # every connection cut
            await asyncio.sleep(5)  # the outage
            pg.start()
            await eventually(lambda: tally(slow_slack, ids).complete, timeout=120)
            await eventually(vangnet.healthy, timeout=30)
        finally:
            await vangnet.terminate()
    assert tally(slow_slack, ids).doubled == 0


@pytest.mark.chaos
@needs_postgres_server
async def test_killing_one_of_two_instances_again_and_again_sends_each_message_once(
    slow_slack: FakeSlack, tmp_path: Path
) -> None:
    slow_slack.slow = 0.3  # most kills land while a post is on its way
    with own_postgres() as pg:
        ids = prepare(pg.url, 120)
        instances = [
            await started(Vangnet(pg.url, slow_slack, tmp_path)),
            await started(Vangnet(pg.url, slow_slack, tmp_path)),
        ]
        try:
            for kill in range(10):
                await asyncio.sleep(random.uniform(0.3, 1.5))  # the kill loop's own pace
                victim = instances[kill % 2]
                await victim.kill()  # kill -9, perhaps in the middle of a send
                instances[kill % 2] = await started(Vangnet(pg.url, slow_slack, tmp_path))
            await eventually(lambda: tally(slow_slack, ids).complete, timeout=LEASE_AND_MORE)
        finally:
            for vangnet in instances:
                await vangnet.terminate()
    assert tally(slow_slack, ids).doubled == 0


@pytest.mark.chaos
async def test_a_blocked_telegram_user_and_a_deactivated_slack_account_strand_nothing(
    database_url: str, slow_slack: FakeSlack, tmp_path: Path
) -> None:
    """Issue 24: cards go out to a broker whose Slack account is deactivated (Bram, Kampen's
    only broker) and one who blocked the bot on Telegram (Henk, Hardenberg's): each is tried
    once, the coordinator is told once by name, and every case reaches someone."""
    refs = prepare_cards(database_url, due={"Kampen": 3, "Hardenberg": 3, "Zwolle": 6})
    telegram = await FakeTelegram().start()
    for user in (1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009):
        telegram.add_private_chat(user)
    telegram.block(1004)  # Henk
    slow_slack.deactivated.add("U01BRAM")
    vangnet = await started(Vangnet(database_url, slow_slack, tmp_path, telegram=telegram))

    def told_of(name: str) -> int:
        return sum(
            1
            for c in slow_slack.posted("D01ANNA")
            if f"{name} is niet bereikbaar via" in str(c.body.get("text"))
        )

    try:
        await eventually(lambda: not stranded(database_url, refs), timeout=90)
        await eventually(lambda: told_of("Bram Bakker") > 0 < told_of("Henk Mulder"), timeout=30)
        await asyncio.sleep(5)  # more rounds of delivery: nobody told twice, nobody tried again
    finally:
        await vangnet.terminate()
        await telegram.stop()
    assert (told_of("Bram Bakker"), told_of("Henk Mulder")) == (1, 1)
    to_bram = [
        c
        for c in slow_slack.calls_to("chat.postMessage", ok_only=False)
        if c.body.get("channel") == "D01BRAM"
    ]
    to_henk = [
        c
        for c in telegram.calls
        if c.method == "sendMessage" and str(c.params.get("chat_id")) == "1004"
    ]
    assert (len(to_bram), len(to_henk)) == (1, 1)


@pytest.mark.chaos
@needs_postgres_server
async def test_two_instances_starting_together_on_a_new_database_both_start(
    slow_slack: FakeSlack, tmp_path: Path
) -> None:
    """Issue 24 item 2: the migrations and the directory seeding, one instance at a time."""
    with own_postgres() as pg:
        pair = [Vangnet(pg.url, slow_slack, tmp_path), Vangnet(pg.url, slow_slack, tmp_path)]
        await asyncio.gather(*(v.start() for v in pair))
        try:
            for vangnet in pair:
                await eventually(vangnet.healthy, timeout=60)
        finally:
            codes = [await v.terminate() for v in pair]
    assert codes == [0, 0]
