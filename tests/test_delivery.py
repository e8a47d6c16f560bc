"""Nothing lost, nothing doubled: the outbox through crashes, failures and two instances."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

import time_machine
from sqlmodel import select

from bot.core.app import Core
from bot.core.delivery import deliver_pending, lease_pending
from bot.core.replies import Reply
from bot.core.sweeps import run_sweep
from bot.store.db import make_engine, session_scope
from bot.store.models import OutboxMessage
from tests.factories import make_leaver


class Platform:
    """A stand-in for Slack or Telegram that records what it was asked to send."""

    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail_times = fail_times
        self.lock = threading.Lock()

    async def send(self, address: str, reply: Reply) -> None:
        with self.lock:
            if self.fail_times:
                self.fail_times -= 1
                raise ConnectionError("platform unavailable")
            self.sent.append((address, reply.title or reply.text))


def deliver(core: Core, platform: Platform, engine=None) -> int:  # type: ignore[no-untyped-def]
    return asyncio.run(
        deliver_pending(
            engine or core.engine, via="test", address_of=lambda p: p.id, send=platform.send
        )
    )


def outbox(core: Core) -> list[OutboxMessage]:
    with session_scope(core.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def test_a_message_recorded_before_a_crash_is_sent_once_after_restart(core: Core) -> None:
    make_leaver(core, early_leaver="yes", expected_exit="2026-11")  # pings wim and fatima
    # the process dies here: recorded, not sent. A new process with a new engine starts.
    restarted = make_engine(core.engine.url.render_as_string(hide_password=False))
    platform = Platform()
    assert deliver(core, platform, restarted) == 2
    assert deliver(core, platform, restarted) == 0
    assert sorted(a for a, _ in platform.sent) == ["fatima", "wim"]
    assert all(m.sent_at is not None for m in outbox(core))
    restarted.dispose()


def test_a_message_leased_by_a_process_that_died_is_sent_after_the_lease(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    with session_scope(core.engine) as session:
        assert len(lease_pending(session, person_ids=None, limit=10)) == 2  # then it dies
    platform = Platform()
    assert deliver(core, platform) == 0  # still leased
    frozen.shift(timedelta(minutes=3))
    assert deliver(core, platform) == 2
    assert len(platform.sent) == 2


def test_a_failed_send_is_retried_with_back_off(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    make_leaver(
        core,
        school="kompas",
        by="joost",
        home_municipality="Hardenberg",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    platform = Platform(fail_times=1)
    assert deliver(core, platform) == 0
    (message,) = outbox(core)
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    assert deliver(core, platform) == 0  # not yet: backing off
    frozen.shift(timedelta(seconds=31))
    assert deliver(core, platform) == 1
    assert platform.sent == [("henk", message.payload["title"])]


def test_two_instances_sweeping_and_sending_at_once_send_each_message_once(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    refs = [make_leaver(core, expected_exit="2027-06").ref for _ in range(12)]
    frozen.shift(timedelta(days=100))  # every handover window has opened
    second = Core(
        engine=make_engine(core.engine.url.render_as_string(hide_password=False)),
        region=core.region,
        default_language="en",
    )
    platform = Platform()
    start = threading.Barrier(2, timeout=30)

    def instance(c: Core) -> None:
        start.wait()
        for _ in range(3):
            run_sweep(c)
            deliver(c, platform)

    threads = [threading.Thread(target=instance, args=(c,)) for c in (core, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    messages = outbox(core)
    # 12 cases × 2 Zwolle brokers, each pinged once
    assert len(messages) == 24 and all(m.sent_at for m in messages)
    sent = Counter(platform.sent)
    assert len(platform.sent) == 24 and max(sent.values()) == 1
    assert {m.case_ref for m in messages} == set(refs)
    second.engine.dispose()


def test_a_failing_task_is_retried_and_logs_no_personal_data(
    core: Core,
    frozen: time_machine.Coordinates,
    caplog,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    import logging

    from bot.core import handover, tasks

    c = make_leaver(core, expected_exit="2027-06", consent="given", name="Jesse Voorbeeld")

    def broken(ctx, task):  # type: ignore[no-untyped-def]
        raise ValueError(f"boom for {c.name}")  # an error whose text holds personal data

    monkeypatch.setitem(tasks.HANDLERS, "window_open", broken)
    frozen.shift(timedelta(days=100))
    with caplog.at_level(logging.INFO):
        run_sweep(core)
    assert "ValueError" in caplog.text and "Jesse" not in caplog.text
    monkeypatch.setitem(tasks.HANDLERS, "window_open", handover.window_open)
    run_sweep(core)  # backing off: not yet
    assert [m.kind for m in outbox(core)] == []
    frozen.shift(timedelta(seconds=31))
    run_sweep(core)
    assert sorted(m.person_id for m in outbox(core)) == ["fatima", "wim"]
