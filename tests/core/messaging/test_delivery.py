"""Nothing lost, nothing doubled: the outbox through crashes, failures and two instances."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

import time_machine
from sqlmodel import select

from bot.core.app import Core
from bot.core.messaging.delivery import deliver_pending, lease_pending
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

    async def send(self, address: str, reply: Reply, *, outbox_id: int | None = None) -> None:
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

    from bot.core import sweeps, tasks
    from bot.core.cases import handover

    c = make_leaver(core, expected_exit="2027-06", consent="given", name="Jesse Voorbeeld")

    def broken(ctx, task):  # type: ignore[no-untyped-def]
        raise ValueError(f"boom for {c.name}")  # an error whose text holds personal data

    monkeypatch.setitem(sweeps.TASKS, "window_open", tasks.Kind(broken))
    frozen.shift(timedelta(days=100))
    with caplog.at_level(logging.INFO):
        run_sweep(core)
    assert "ValueError" in caplog.text and "Jesse" not in caplog.text
    # where it failed is at ERROR: the frames, with the function that raised
    (failure,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "in broken" in failure.getMessage() and "test_delivery.py" in failure.getMessage()
    monkeypatch.setitem(sweeps.TASKS, "window_open", tasks.Kind(handover.window_open))
    run_sweep(core)  # backing off: not yet
    assert [m.kind for m in outbox(core)] == []
    frozen.shift(timedelta(seconds=31))
    run_sweep(core)
    assert sorted(m.person_id for m in outbox(core)) == ["fatima", "wim"]


def test_a_task_of_unknown_kind_is_marked_failed_and_logged_once(
    core: Core,
    frozen: time_machine.Coordinates,
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 8 item 8: not retried hourly for ever."""
    import logging

    from bot.core import clock, tasks
    from bot.store.models import Task

    with session_scope(core.engine) as session:
        tasks.schedule(session, kind="from_a_newer_version", due_at=clock.now())
    with caplog.at_level(logging.ERROR):
        run_sweep(core)
        for _ in range(3):
            frozen.shift(timedelta(hours=2))
            run_sweep(core)
    assert caplog.text.count("from_a_newer_version") == 1
    with session_scope(core.engine) as session:
        (task,) = session.exec(select(Task)).all()
    assert task.done_at is not None and task.last_error == "unknown kind"


def test_a_failed_send_keeps_the_error_type_only(core: Core) -> None:
    """Issue 8 item 8: an exception's text may quote the message, and so personal data."""

    class Leaky:
        async def send(self, address: str, reply: Reply, *, outbox_id: int | None = None) -> None:
            raise RuntimeError(f"could not deliver: {reply.fields}")

    make_leaver(
        core, early_leaver="yes", expected_exit="2026-11", consent="given", name="Jesse Voorbeeld"
    )
    asyncio.run(
        deliver_pending(core.engine, via="test", address_of=lambda p: p.id, send=Leaky().send)
    )
    errors = {m.last_error for m in outbox(core)}
    assert errors == {"RuntimeError"}


class EditingPlatform(Platform):
    """A platform whose messages can be edited afterwards, like Slack's and Telegram's."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: dict[str, Reply] = {}  # platform reference → what it shows now

    async def send(self, address: str, reply: Reply, *, outbox_id: int | None = None) -> str:  # type: ignore[override]
        ref = f"{address}:{len(self.shown) + 1}"
        self.shown[ref] = reply
        return ref

    async def edit(self, address: str, ref: str, reply: Reply) -> None:
        assert ref.startswith(address + ":")
        self.shown[ref] = reply


def deliver_editing(core: Core, platform: EditingPlatform) -> int:
    return asyncio.run(
        deliver_pending(
            core.engine,
            via="test",
            address_of=lambda p: p.id,
            send=platform.send,
            edit=platform.edit,
        )
    )


def test_a_claimed_cards_claim_button_is_gone_everywhere(core: Core) -> None:
    """Issue 8 item 17: after a claim the other brokers' cards say who has the case."""
    from tests.factories import say

    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    platform = EditingPlatform()
    assert deliver_editing(core, platform) == 2  # the cards of wim and fatima
    say(core, "wim", f"/claim {c.ref}")
    deliver_editing(core, platform)
    fatima = next(r for ref, r in platform.shown.items() if ref.startswith("fatima:"))
    wim = next(r for ref, r in platform.shown.items() if ref.startswith("wim:"))
    assert "Wim Jansen has taken case" in fatima.text
    assert all(not b.action.startswith("claim:") for b in fatima.buttons + wim.buttons)
    assert any(b.action == f"placed:{c.ref}" for b in wim.buttons)  # the owner can go on
    assert len([ref for ref in platform.shown if ref.startswith("fatima:")]) == 1  # edited


def test_a_card_not_sent_yet_is_changed_in_place(core: Core) -> None:
    from tests.factories import say

    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    (card,) = [m for m in outbox(core) if m.person_id == "fatima"]  # no separate edit
    assert card.kind == "due" and card.sent_at is None
    assert "Wim Jansen has taken case" in card.payload["text"]
    assert all(not b["action"].startswith("claim:") for b in card.payload["buttons"])


def test_an_edit_waits_for_its_message_and_is_dropped_where_it_cannot_be_applied(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    from bot.core.messaging import outbox as box
    from bot.store.models import OutboxMessage as Row

    make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    with session_scope(core.engine) as session:
        original = session.exec(select(Row).where(Row.person_id == "wim")).one()
        box.enqueue(
            session,
            person_id="wim",
            kind="edit",
            reply=Reply(text="changed"),
            once="test",
            replaces_id=original.id,
        )
    platform = EditingPlatform()

    async def fail_wim(address: str, reply: Reply, *, outbox_id: int | None = None) -> str:
        if address == "wim":
            raise ConnectionError("not now")
        return await platform.send(address, reply)

    asyncio.run(
        deliver_pending(
            core.engine, via="test", address_of=lambda p: p.id, send=fail_wim, edit=platform.edit
        )
    )
    edit = next(m for m in outbox(core) if m.kind == "edit")
    assert edit.sent_at is None and edit.dropped_at is None  # waits for the card itself
    for _ in range(2):  # sent later by a transport that cannot edit: the edit is dropped
        frozen.shift(timedelta(seconds=31))
        asyncio.run(
            deliver_pending(
                core.engine, via="plain", address_of=lambda p: p.id, send=Platform().send
            )
        )
    edit = next(m for m in outbox(core) if m.kind == "edit")
    assert edit.dropped_at is not None and edit.sent_at is None


def test_erasing_drops_what_was_not_sent_and_never_sends_a_placeholder(
    core: Core,
) -> None:
    """Issue 8 item 2: pending messages about an erased case are dropped, sent ones blanked,
    and the sent cards edited to show the case without its details."""
    import json

    from bot.core.context import system_person
    from bot.core.privacy import erase_case

    c = make_leaver(
        core, early_leaver="yes", expected_exit="2026-11", consent="given", name="Jesse Voorbeeld"
    )
    platform = EditingPlatform()
    deliver_editing(core, platform)  # wim's and fatima's cards are shown
    from tests.factories import say

    say(core, "wim", f"/claim {c.ref}")  # sara's "taken over" note waits to be sent
    with session_scope(core.engine) as session:
        erase_case(core.ctx(session, system_person(), transport="cli", private=True), c.ref)
    deliver_editing(core, platform)
    for reply in platform.shown.values():
        text = json.dumps(reply.model_dump(mode="json"))
        assert "Jesse" not in text and "[erased]" not in text
    messages = outbox(core)
    for m in messages:
        assert "Jesse" not in json.dumps(m.payload)
    (note,) = [m for m in messages if m.person_id == "sara"]
    assert note.dropped_at is not None and note.sent_at is None
    delivered = asyncio.run(
        deliver_pending(core.engine, via="test", address_of=lambda p: p.id, send=Platform().send)
    )
    assert delivered == 0  # nothing about the erased case goes out any more


def test_a_message_sent_while_the_database_went_away_is_recorded_later_not_sent_again(
    core: Core,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 14 item 2: one failed 'sent' mark neither ends the round nor doubles the message."""
    from sqlalchemy.exc import OperationalError

    from bot.core.messaging import delivery

    make_leaver(core, early_leaver="yes", expected_exit="2026-11")  # wim and fatima
    real_mark = delivery.mark_sent_by_id
    calls = {"n": 0}

    def flaky_mark(session, message_id, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("UPDATE outbox", {}, Exception("server closed the connection"))
        return real_mark(session, message_id, **kw)

    monkeypatch.setattr(delivery, "mark_sent_by_id", flaky_mark)
    platform = Platform()
    unconfirmed: dict[int, str | None] = {}

    def round_() -> int:
        return asyncio.run(
            deliver_pending(
                core.engine,
                via="test",
                address_of=lambda p: p.id,
                send=platform.send,
                unconfirmed=unconfirmed,
            )
        )

    assert round_() == 2  # both sent in the same round, although the first mark failed
    # the records are written together: the unit that failed may have held both
    assert 1 <= len(unconfirmed) <= 2
    assert round_() == 0  # the next round records it and sends nothing again
    assert unconfirmed == {} and all(m.sent_at is not None for m in outbox(core))
    assert sorted(a for a, _ in platform.sent) == ["fatima", "wim"]


def test_a_stop_half_way_releases_what_was_leased(core: Core) -> None:
    """Issue 14 item 5: after a clean stop another process sends the rest at once."""
    for _ in range(3):
        make_leaver(core, early_leaver="yes", expected_exit="2026-11")  # 6 cards
    stop = asyncio.Event()
    platform = Platform()

    async def send_then_stop(address: str, reply: Reply, *, outbox_id: int | None = None) -> None:
        await platform.send(address, reply)
        stop.set()  # SIGTERM arrives during the first send

    sent = asyncio.run(
        deliver_pending(
            core.engine, via="test", address_of=lambda p: p.id, send=send_then_stop, stop=stop
        )
    )
    assert sent == 1
    rest = [m for m in outbox(core) if m.sent_at is None]
    assert len(rest) == 5 and all(m.leased_until is None for m in rest)
    assert deliver(core, Platform()) == 5  # at once, not after the lease


def test_erasing_clears_what_a_failed_send_left_in_the_outbox(core: Core) -> None:
    """Issue 8 item 8: an error stored before this version may quote the message."""
    from bot.core.context import system_person
    from bot.core.privacy import erase_case

    c = make_leaver(
        core, early_leaver="yes", expected_exit="2026-11", consent="given", name="Jesse Voorbeeld"
    )
    with session_scope(core.engine) as session:
        for message in session.exec(select(OutboxMessage)).all():
            message.last_error = "RuntimeError: could not deliver Jesse Voorbeeld"
            session.add(message)
    with session_scope(core.engine) as session:
        erase_case(core.ctx(session, system_person(), transport="cli", private=True), c.ref)
    assert all(m.last_error is None for m in outbox(core))


def test_back_off_starts_within_seconds_with_jitter_and_honours_retry_after(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    """Issue 14 item 8: not 30 s, 60 s, 120 s after an outage; what the platform asks wins."""
    from bot.core.messaging.delivery import MAX_BACKOFF, backoff

    first = [backoff(1).total_seconds() for _ in range(50)]
    assert min(first) >= 2 and max(first) <= 2.4 and len(set(first)) > 1
    assert backoff(4).total_seconds() >= 16 and backoff(30) <= MAX_BACKOFF * 1.2

    class Limited(Exception):
        retry_after = timedelta(seconds=17)  # as python-telegram-bot's RetryAfter says it

    async def refuse(address: str, reply: Reply, *, outbox_id: int | None = None) -> None:
        raise Limited()

    make_leaver(
        core,
        school="kompas",
        by="joost",
        home_municipality="Hardenberg",
        early_leaver="yes",
        expected_exit="2026-11",
    )
    asyncio.run(deliver_pending(core.engine, via="test", address_of=lambda p: p.id, send=refuse))
    (message,) = outbox(core)
    from bot.core import clock

    waits = (message.not_before - clock.now()).total_seconds()
    assert 17 <= waits < 18


def test_the_claimants_own_card_says_they_own_it(core: Core) -> None:
    from tests.factories import say

    c = make_leaver(core, early_leaver="yes", expected_exit="2026-11")
    say(core, "wim", f"/claim {c.ref}")
    (own,) = [m for m in outbox(core) if m.person_id == "wim" and m.kind == "due"]
    assert own.payload["text"].startswith(f"You now own case {c.ref}.")


def test_a_failing_task_does_not_undo_the_others_swept_with_it(
    core: Core,
    frozen: time_machine.Coordinates,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """Due tasks run together in one transaction, each in a savepoint of its own."""
    from bot.core import sweeps, tasks
    from bot.core.cases import handover
    from bot.store.models import Case, Task

    first, broken_one, last = (make_leaver(core, expected_exit="2027-06") for _ in range(3))

    def sometimes_broken(ctx, task):  # type: ignore[no-untyped-def]
        handover.window_open(ctx, task)  # its writes are rolled back with the savepoint
        if task.case_ref == broken_one.ref:
            raise ValueError("boom")

    monkeypatch.setitem(sweeps.TASKS, "window_open", tasks.Kind(sometimes_broken))
    frozen.shift(timedelta(days=100))
    assert run_sweep(core) == 3

    with session_scope(core.engine) as session:
        states = {c.ref: c.state for c in session.exec(select(Case))}
        failed = session.exec(
            select(Task).where(Task.case_ref == broken_one.ref, Task.kind == "window_open")
        ).one()
    assert states == {first.ref: "due", broken_one.ref: "forecast", last.ref: "due"}
    assert (failed.done_at, failed.attempts, failed.last_error) == (None, 1, "ValueError")
    assert {m.case_ref for m in outbox(core)} == {first.ref, last.ref}


def test_a_clean_stop_mid_sweep_releases_the_tasks_it_did_not_run(
    core: Core,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 14 item 5 for tasks: after SIGTERM, a process started at once runs the rest of
    the batch, instead of waiting five minutes for the leases to end."""
    from bot.core import clock, sweeps, tasks
    from bot.store.models import Task

    stop = threading.Event()
    ran: list[str] = []

    def work(ctx, task):  # type: ignore[no-untyped-def]
        ran.append(task.payload["n"])
        stop.set()  # SIGTERM arrives while the first task runs

    monkeypatch.setitem(sweeps.TASKS, "test_work", tasks.Kind(work))
    with session_scope(core.engine) as session:
        for n in "abc":
            tasks.schedule(session, kind="test_work", due_at=clock.now(), payload={"n": n})
    assert run_sweep(core, stop) == 1  # the task under way is finished, the rest released
    assert ran == ["a"]
    with session_scope(core.engine) as session:
        rows = session.exec(select(Task).order_by(Task.id)).all()
        assert [r.done_at is not None for r in rows] == [True, False, False]
        assert all(r.leased_until is None for r in rows)
    assert run_sweep(core) == 2  # the next process, at the same moment
    assert ran == ["a", "b", "c"]


def _queue(core: Core, texts_by_person: dict[str, list[str]]) -> None:
    """Messages recorded in turn: the first of each person, then the second of each …"""
    from bot.core.messaging.outbox import enqueue

    rounds = max(len(texts) for texts in texts_by_person.values())
    with session_scope(core.engine) as session:
        for n in range(rounds):
            for person, texts in texts_by_person.items():
                if n < len(texts):
                    enqueue(session, person_id=person, kind="test", reply=Reply(text=texts[n]))


def test_one_persons_messages_are_leased_by_one_instance_at_a_time(core: Core) -> None:
    """Issue 14 item 8: two instances never send to the same person at once (so they share
    Slack's pace per chat and never reorder what one person reads)."""
    _queue(core, {"wim": ["w1", "w2", "w3"], "fatima": ["f1"]})
    with session_scope(core.engine) as session:  # instance one leases wim's first
        one = [m.payload["text"] for m in lease_pending(session, person_ids=None, limit=1)]
    with session_scope(core.engine) as session:  # instance two: fatima's, none of wim's
        two = [m.payload["text"] for m in lease_pending(session, person_ids=None, limit=10)]
    assert (one, two) == (["w1"], ["f1"])


def test_a_failed_message_holds_back_that_persons_later_ones_not_anyone_elses(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    _queue(core, {"wim": ["w1", "w2"], "fatima": ["f1", "f2"]})
    platform = Platform(fail_times=1)  # the first send, w1, fails
    assert deliver(core, platform) == 2
    assert platform.sent == [("fatima", "f1"), ("fatima", "f2")]
    assert deliver(core, platform) == 0  # w2 waits behind w1, which backs off
    frozen.shift(timedelta(seconds=3))
    assert deliver(core, platform) == 2
    assert platform.sent[2:] == [("wim", "w1"), ("wim", "w2")]


def test_two_instances_sending_at_once_keep_each_persons_order(core: Core) -> None:
    people = ["wim", "fatima", "bram", "lotte", "eva"]
    for p in people:  # all of one person's, then the next person's
        _queue(core, {p: [f"{p}{n}" for n in range(6)]})
    second = make_engine(core.engine.url.render_as_string(hide_password=False))
    platform = Platform()
    start = threading.Barrier(2, timeout=30)

    async def slowly(address: str, reply: Reply, *, outbox_id: int | None = None) -> None:
        await asyncio.sleep(0.001)  # lets the other instance in between
        await platform.send(address, reply)

    def instance(engine) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        for _ in range(20):
            asyncio.run(
                deliver_pending(engine, via="test", address_of=lambda p: p.id, send=slowly, limit=3)
            )

    threads = [threading.Thread(target=instance, args=(e,)) for e in (core.engine, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    second.dispose()
    assert len(platform.sent) == 30 and len(set(platform.sent)) == 30
    for p in people:
        assert [text for address, text in platform.sent if address == p] == [
            f"{p}{n}" for n in range(6)
        ]


def test_once_the_platform_is_back_what_failed_meanwhile_goes_at_once_in_order(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    """Issue 14 item 8: after an outage the backlog does not wait out each back-off."""
    _queue(core, {"wim": ["w1", "w2"], "fatima": ["f1", "f2"], "bram": ["b1"]})
    platform = Platform(fail_times=3)  # the platform cannot be reached: w1, f1, b1 fail
    stalled: set[int] = set()

    def round_() -> int:
        return asyncio.run(
            deliver_pending(
                core.engine, via="test", address_of=lambda p: p.id, send=platform.send,
                stalled=stalled,
            )
        )  # fmt: skip

    assert round_() == 0
    assert [m.attempts for m in outbox(core)] == [1, 1, 1, 0, 0]
    # the platform is back; no time has passed: the oldest (w1) is tried, gets through, and
    # wim's next one with it; then all the rest go at once, each person's in order
    assert round_() == 2
    assert round_() == 3
    assert sorted(platform.sent) == sorted(
        [("wim", "w1"), ("wim", "w2"), ("fatima", "f1"), ("fatima", "f2"), ("bram", "b1")]
    )
    for person, texts in {"wim": ["w1", "w2"], "fatima": ["f1", "f2"]}.items():
        assert [t for p, t in platform.sent if p == person] == texts


def test_while_the_platform_stays_away_one_message_is_tried_each_round_uncounted(
    core: Core,
) -> None:
    _queue(core, {"wim": ["w1", "w2"], "fatima": ["f1"]})
    platform = Platform(fail_times=100)
    stalled: set[int] = set()
    for _ in range(12):
        asyncio.run(
            deliver_pending(
                core.engine, via="test", address_of=lambda p: p.id, send=platform.send,
                stalled=stalled,
            )
        )  # fmt: skip
    w1, f1, w2 = outbox(core)
    # w1 was the probe each round: still first in wim's order, w2 still behind it
    assert (w1.attempts, w2.attempts, f1.attempts) == (1, 0, 1)
    assert platform.sent == []
    assert platform.fail_times == 100 - 2 - 11
