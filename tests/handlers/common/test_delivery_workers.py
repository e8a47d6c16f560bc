"""Delivery without rounds (issue 16): each person's messages go out as their own chat's pace
allows, in order, without waiting for anyone else's; at most PEOPLE_AT_ONCE at a time.

No timings: what is counted is who was sent what, in which order, and how many at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlmodel import select

from bot.core.app import Core
from bot.core.messaging import delivery
from bot.core.messaging.delivery import deliver_pending
from bot.core.messaging.outbox import enqueue
from bot.core.replies import Reply
from bot.handlers.common.delivery import delivery_loop
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person

GUARD = 60  # seconds: only so that a broken version fails instead of hanging


def _people(core: Core, n: int, per_person: int) -> list[str]:
    """`n` people with `per_person` messages each, recorded in turn (everyone's first, then
    everyone's second …), as a sweep records them."""
    ids = [f"p{i:02d}" for i in range(n)]
    with session_scope(core.engine) as session:
        for person in ids:
            session.add(Person(id=person, name=f"Person {person}", roles=["broker"]))
    with session_scope(core.engine) as session:
        for k in range(per_person):
            for person in ids:
                enqueue(session, person_id=person, kind="test", reply=Reply(text=f"{person}-{k}"))
    return ids


class Chats:
    """A platform that records what each person got, and how many chats were busy at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.busy: set[str] = set()
        self.most_at_once = 0

    async def send(self, address: str, reply: Reply, *, outbox_id: int | None = None) -> None:
        assert address not in self.busy, "two sends to one person at the same time"
        self.busy.add(address)
        self.most_at_once = max(self.most_at_once, len(self.busy))
        await asyncio.sleep(0)  # a send takes a while: the others go on meanwhile
        await asyncio.sleep(0)
        self.busy.discard(address)
        self.sent.append((address, reply.text))

    def of(self, person: str) -> list[str]:
        return [text for address, text in self.sent if address == person]


def _everyone_in_order(chats: Chats, people: list[str], per_person: int) -> None:
    for person in people:
        assert chats.of(person) == [f"{person}-{k}" for k in range(per_person)]


def _unsent(core: Core) -> list[OutboxMessage]:
    with session_scope(core.engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))  # type: ignore[union-attr]
        return list(session.exec(query).all())


def _our_people(p: Person) -> str | None:
    return p.id if p.id.startswith("p") and p.id[1:].isdigit() else None


def test_no_person_waits_for_anothers_messages(core: Core) -> None:
    """Twenty people with five messages each: the first person's first message is held up
    until all the others have had all theirs. Rounds that wait for the slowest person (the
    way it was) could never get there; per-person workers do, in one pass."""
    people = _people(core, 20, 5)
    chats = Chats()
    others_done = asyncio.Event()

    async def send(address: str, reply: Reply, *, outbox_id: int | None = None) -> None:
        if address == people[0]:
            await others_done.wait()
        await chats.send(address, reply)
        if all(len(chats.of(p)) == 5 for p in people[1:]):
            others_done.set()

    async def one_pass() -> int:
        return await asyncio.wait_for(
            deliver_pending(core.engine, via="test", address_of=_our_people, send=send),
            timeout=GUARD,
        )

    assert asyncio.run(one_pass()) == 100
    _everyone_in_order(chats, people, 5)
    first_of_p00 = chats.sent.index((people[0], f"{people[0]}-0"))
    assert first_of_p00 == 95  # after the other 19 × 5
    assert _unsent(core) == []


def test_a_person_with_many_messages_gets_them_all_in_one_pass(core: Core) -> None:
    """Their worker leases the next few as soon as the last few are sent (no new pass)."""
    people = _people(core, 2, 25)
    chats = Chats()
    sent = asyncio.run(
        deliver_pending(core.engine, via="test", address_of=_our_people, send=chats.send, limit=3)
    )
    assert sent == 50
    _everyone_in_order(chats, people, 25)


@pytest.fixture
def three_at_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(delivery, "PEOPLE_AT_ONCE", 3)
    yield


def test_at_most_people_at_once_and_the_next_person_starts_when_one_is_done(
    core: Core, three_at_once: None
) -> None:
    people = _people(core, 10, 3)
    chats = Chats()
    sent = asyncio.run(
        deliver_pending(core.engine, via="test", address_of=_our_people, send=chats.send)
    )
    assert sent == 30
    assert chats.most_at_once == 3
    _everyone_in_order(chats, people, 3)


def test_the_loop_serves_everyone_without_waiting_for_its_interval(
    core: Core, three_at_once: None
) -> None:
    """With room for three, the fourth person starts when one of the three is done, not at
    the loop's next look (an hour away here)."""
    people = _people(core, 8, 2)
    chats = Chats()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.create_task(
            delivery_loop(
                core.engine,
                via="test",
                address_of=_our_people,
                send=chats.send,
                stop=stop,
                interval=3600,
            )
        )
        try:
            async with asyncio.timeout(GUARD):
                while len(chats.sent) < 16:
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await loop

    asyncio.run(run())
    assert chats.most_at_once <= 3
    _everyone_in_order(chats, people, 2)


def test_a_rate_limit_holds_back_that_person_only_and_its_wait_is_honoured(
    core: Core, frozen: time_machine.Coordinates
) -> None:
    """The platform answers 'too many, wait 7 s' for one person's first message: the others
    get all theirs; that person's wait the given time, then go in order."""
    people = _people(core, 4, 3)
    chats = Chats()

    class Limited(Exception):
        retry_after = 7  # as slack_sdk's and python-telegram-bot's errors carry it

    refused: list[str] = []

    async def send(address: str, reply: Reply, *, outbox_id: int | None = None) -> None:
        if address == people[0] and not refused:
            refused.append(reply.text)
            raise Limited()
        await chats.send(address, reply)

    def one_pass() -> int:
        return asyncio.run(
            deliver_pending(core.engine, via="test", address_of=_our_people, send=send)
        )

    assert one_pass() == 9
    assert chats.of(people[0]) == []
    held = sorted(_unsent(core), key=lambda m: m.id or 0)
    assert len(held) == 3 and held[0].attempts == 1
    frozen.shift(timedelta(seconds=6))
    assert one_pass() == 0  # still waiting, as asked
    frozen.shift(timedelta(seconds=2))
    assert one_pass() == 3
    _everyone_in_order(chats, people, 3)


def test_twenty_peoples_messages_are_recorded_together_and_no_lock_is_taken_for_nothing(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 28: a round of 20 people's messages recorded each message in a write of its
    own, and every worker took the write lock once more to find that nothing else was due
    (on SQLite, 40 writers queueing behind each other). The records now go together, and a
    worker asks with a read first."""
    from bot.core.messaging import attempts

    people = _people(core, 20, 2)
    units: list[int] = []
    leases: list[int] = []
    real_confirm, real_lease = delivery._confirm, attempts.lease

    def confirm(engine, sent, via):  # type: ignore[no-untyped-def]
        units.append(len(sent))
        return real_confirm(engine, sent, via)

    def lease(engine, **kw):  # type: ignore[no-untyped-def]
        leased = real_lease(engine, **kw)
        leases.append(len(leased))
        return leased

    monkeypatch.setattr(delivery, "_confirm", confirm)
    monkeypatch.setattr(attempts, "lease", lease)
    chats = Chats()
    sent = asyncio.run(
        deliver_pending(core.engine, via="test", address_of=_our_people, send=chats.send)
    )
    assert sent == 40
    _everyone_in_order(chats, people, 2)
    assert _unsent(core) == []
    assert sum(units) == 40 and len(units) < 20  # together, not one write per message
    assert leases == [40]  # one lease for all; nobody leased again to find nothing due
