"""Teams' limits per conversation, on a clock of the test's own: 7 messages a second, 8 in two
seconds, 60 in thirty; a burst within them goes out at once (a Claim's card update and its
reply), in order; other conversations do not wait; a 429 is waited out as Retry-After says."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import ClientResponseError
from multidict import CIMultiDict, CIMultiDictProxy

from bot.handlers.teams.sending import TeamsPace


class Clock:
    """Time that moves only when the pace sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def paced(clock: Clock) -> tuple[TeamsPace, list[tuple[str, int, float]]]:
    return TeamsPace(clock=clock, sleep=clock.sleep), []


async def send_all(
    pace: TeamsPace, sent: list[tuple[str, int, float]], clock: Clock, chat: str, n: int
) -> None:
    for i in range(n):

        async def once(i: int = i) -> None:
            sent.append((chat, i, clock.now))

        await pace.call(chat, once)


async def test_a_claims_card_and_reply_go_out_together() -> None:
    clock = Clock()
    pace, sent = paced(clock)
    await send_all(pace, sent, clock, "a:anna", 2)
    assert [at for _, _, at in sent] == [0.0, 0.0]  # no half second between them


async def test_seven_a_second_eight_in_two_seconds() -> None:
    clock = Clock()
    pace, sent = paced(clock)
    await send_all(pace, sent, clock, "a:anna", 10)
    times = [at for _, _, at in sent]
    assert times[:7] == [0.0] * 7
    assert times[7] == pytest.approx(1.0)  # the 8th: the first second is over
    assert times[8] == pytest.approx(2.0)  # the 9th: 8 in two seconds
    assert [i for _, i, _ in sent] == list(range(10))  # in order
    for n, at in enumerate(times):
        assert sum(1 for other in times if at <= other < at + 1.0) <= 7, n
        assert sum(1 for other in times if at <= other < at + 2.0) <= 8, n


async def test_sixty_in_thirty_seconds() -> None:
    clock = Clock()
    pace, sent = paced(clock)
    await send_all(pace, sent, clock, "a:anna", 70)
    times = [at for _, _, at in sent]
    assert all(sum(1 for other in times if at <= other < at + 30.0) <= 60 for at in times)
    assert times[60] >= 30.0


async def test_conversations_do_not_wait_for_each_other() -> None:
    clock = Clock()
    pace, sent = paced(clock)
    await send_all(pace, sent, clock, "a:anna", 8)  # Anna's eighth waited a second
    before = clock.now
    await send_all(pace, sent, clock, "a:wim", 1)
    assert sent[-1] == ("a:wim", 0, before)


async def test_a_429_is_waited_out_as_retry_after_says() -> None:
    clock = Clock()
    pace, sent = paced(clock)
    refusals = [3.0]

    async def once() -> str:
        sent.append(("a:anna", 0, clock.now))
        if refusals:
            headers = CIMultiDictProxy(CIMultiDict({"Retry-After": str(refusals.pop())}))
            raise ClientResponseError(None, (), status=429, headers=headers)  # type: ignore[arg-type]
        return "ok"

    assert await pace.call("a:anna", once) == "ok"
    assert [at for _, _, at in sent] == [0.0, 3.0]
