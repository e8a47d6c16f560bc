"""Telegram in webhook mode: how soon a person sees their answer, against a bare
python-telegram-bot app served the same way (with and without Vangnet's rate limiter).

Each app runs in a process of its own (`telegram_server.py`) on 127.0.0.1, talking to the fake
Bot API of the tests (tests/handlers/telegram/fake_telegram.py), which runs here and records when each
call arrives. Updates are the ones Telegram sends (the tests' factories), posted to the
webhook with its secret, 20 at once (each by another broker, in their private chat), in
rounds, after a warm-up. Measured per kind (/cases typed, Claim pressed on a card):

- button answered: from posting a press until answerCallbackQuery for it arrived;
- own reply: from posting the update until the first new message to that person's chat
  arrived (for a Claim, after the card was edited: the reply saying it is theirs);
- updates per second: the updates of the rounds over the time from each round's first post
  until its last own reply came;
- notices (Vangnet only): what the Claims queued for others in the outbox (the school
  contacts), all delivered at Telegram's pace, none left.

Between rounds the chats are left quiet (a reply of several messages comes one a second, at
Telegram's pace), so that each round's first messages are its own.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.telegram_server import SECRET, TOKEN
from tests.handlers.telegram import factories as tg
from tests.handlers.telegram.fake_telegram import FakeTelegram

HERE = Path(__file__).resolve().parent
KINDS = ("/cases", "Claim")
CONCURRENCY = 20
QUIET = 1.5  # seconds without a new message before the next round
WAIT = 30.0  # seconds a round waits for its replies
SENDS = ("sendMessage", "sendPhoto", "sendDocument")  # a new message to a chat


@dataclass
class Samples:
    button: list[float] = field(default_factory=list)
    reply: list[float] = field(default_factory=list)
    busy: float = 0.0  # seconds the rounds took, first post to last reply
    updates: int = 0
    lost: int = 0  # replies (or button answers) that did not come within WAIT

    @property
    def per_second(self) -> float:
        return self.updates / self.busy if self.busy else 0.0


@dataclass
class People:
    brokers: list[int]  # the Telegram ids of the 20 brokers who ask
    claimable: list[list[str]]  # due cases of broker i's municipality, to claim
    others: list[int] = field(default_factory=list)  # who may get notices (school contacts)


class App:
    """A Telegram bot in its own process."""

    def __init__(self, mode: str, api_root: str, *extra: str) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        env = {**os.environ, "PYTHONPATH": str(HERE.parent), "PTB_TIMEDELTA": "true"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "telegram_server.py"),
                mode,
                str(self.port),
                api_root,
                *extra,
            ],
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self, http: httpx.AsyncClient, fake: FakeTelegram, webhook: bool) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app stopped with {self.process.returncode}")
            try:
                up = (await http.get(f"{self.url}/healthz")).status_code == 200
                if up and (fake.webhook or not webhook):
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError("the app did not come up")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def start_fake(people: People) -> FakeTelegram:
    fake = await FakeTelegram(token=TOKEN).start()
    for person in (*people.brokers, *people.others):
        fake.add_private_chat(person)
    return fake


async def _quiet(fake: FakeTelegram) -> None:
    """Until no message was sent for QUIET seconds (a reply's last messages came)."""
    while True:
        sent = [c.at for c in fake.calls if c.method.startswith("send")]
        if not sent or time.monotonic() - max(sent) >= QUIET:
            return
        await asyncio.sleep(0.1)


def _update(kind: str, fake: FakeTelegram, people: People, i: int) -> dict[str, Any]:
    broker = people.brokers[i]
    if kind == "/cases":
        return tg.private_message(broker, "/cases")
    shown = [m for m in fake.chat_view(broker) if m.from_bot]
    message = shown[-1].message if shown else None
    return tg.callback_query(broker, f"claim:{people.claimable[i].pop()}", message=message)


async def _round(
    http: httpx.AsyncClient, app: App, fake: FakeTelegram, people: People, kind: str, s: Samples
) -> None:
    updates = [fake.arriving(_update(kind, fake, people, i)) for i in range(CONCURRENCY)]
    seen = len(fake.calls)  # what came before the round is not its own
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def post(update: dict[str, Any]) -> float:
        started = time.monotonic()
        response = await http.post(f"{app.url}/telegram/webhook", json=update, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}")
        return started

    starts = await asyncio.gather(*(post(u) for u in updates))
    deadline = time.monotonic() + WAIT
    asking = {b: starts[i] for i, b in enumerate(people.brokers[:CONCURRENCY])}
    replies: dict[int, float] = {}
    buttons: dict[str, float] = {}
    queries = {
        u["callback_query"]["id"]: st
        for u, st in zip(updates, starts, strict=True)
        if "callback_query" in u
    }
    pending: list[Any] = []  # calls the fake is still reading (their params come then)
    while time.monotonic() < deadline:
        # only the calls that came since the last look, and those still being read then
        # (scanning them all, 21 times every 10 ms, took a core of this process on a
        # machine of two, and held the fake up)
        new, seen = fake.calls[seen:], len(fake.calls)
        looked, pending = [*pending, *new], []
        for call in looked:
            if not call.answered:
                pending.append(call)
                continue
            chat = call.params.get("chat_id")
            if call.method in SENDS and chat in asking and chat not in replies:
                replies[chat] = call.at - asking[chat]
            query = call.params.get("callback_query_id")
            if call.method == "answerCallbackQuery" and call.ok and query in queries:
                buttons.setdefault(query, call.at - queries[query])
        if len(replies) == CONCURRENCY and len(buttons) == len(queries):
            break
        await asyncio.sleep(0.01)
    s.reply.extend(replies.values())
    s.button.extend(buttons.values())
    s.lost += CONCURRENCY - len(replies) + len(queries) - len(buttons)
    s.updates += CONCURRENCY
    s.busy += max(starts[i] + replies.get(b, WAIT) for i, b in enumerate(people.brokers)) - min(
        starts
    )
    await _quiet(fake)


async def measure(
    app: App, fake: FakeTelegram, people: People, *, rounds: int
) -> dict[str, Samples]:
    results: dict[str, Samples] = {}
    limits = httpx.Limits(max_connections=CONCURRENCY * 2)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as http:
        await _round(http, app, fake, people, "/cases", Samples())  # warm-up; cards shown
        for kind in KINDS:
            s = results[kind] = Samples()
            for _ in range(rounds):
                await _round(http, app, fake, people, kind, s)
    return results


async def notices_delivered(db_url: str, timeout: float = 60.0) -> tuple[int, int, float]:
    """(sent on Telegram, still waiting, seconds until none waited) of the outbox after the
    rounds."""
    from sqlalchemy import func, select

    from bot.store.db import make_engine
    from bot.store.models import OutboxMessage as O

    engine = make_engine(db_url)
    started = time.monotonic()
    count = select(func.count()).select_from(O)
    try:
        while True:
            with engine.connect() as conn:
                sent = conn.execute(count.where(O.sent_via == "telegram")).scalar()
                waiting = conn.execute(
                    count.where(O.sent_at.is_(None), O.dropped_at.is_(None))  # type: ignore[union-attr]
                ).scalar()
            took = time.monotonic() - started
            if not waiting or took > timeout:
                return int(sent or 0), int(waiting or 0), took
            await asyncio.sleep(0.5)
    finally:
        engine.dispose()
