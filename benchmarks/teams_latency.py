"""Teams: how soon the Bot Connector gets its answer and a person their reply, against a bare
Agents SDK app served the same way.

Each app runs in a process of its own (`teams_server.py`) on 127.0.0.1, reaching the local
Microsoft of the tests (tests/handlers/teams/rig.py: a token issuer behind HTTPS_PROXY with a
throw-away CA, and a fake Bot Connector), which runs here, in a thread, and notes when each
call of the bot arrives. Activities are the ones Teams sends (the rig's `activity`), each with
a bearer token the rig signs as the Bot Connector would, posted to `POST /api/messages`, 20 at
once (each by another broker, in their personal chat), in rounds, after a warm-up round of
/cases (the signing keys and the outgoing token fetched then). Measured per kind (/cases
typed; Claim pressed on a case card: the card's Action.Submit, a message whose value holds
`{"vangnet": "claim:REF"}`):

- acknowledgement: from posting the activity until its HTTP response (the SDK runs the turn
  before it answers, in both apps);
- reply: from posting the activity until the first new activity the bot posted to that
  person's conversation arrived at the connector (for a Claim in Vangnet, the reply saying
  the case is theirs);
- card updated (Vangnet, Claim): until the card pressed on, shown anew without its Claim
  button, arrived at the connector. Vangnet sends a person's messages at Teams' pace
  (`bot/handlers/teams/sending.py`: 7 a second, 8 in two seconds, 60 in thirty per
  conversation), so a Claim's card update and its reply go out one after the other.

The bare app answers every message with one text, and has no database.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.table import Figure, pct
from tests.handlers.teams.rig import LocalMicrosoft, activity

HERE = Path(__file__).resolve().parent
KINDS = ("/cases", "Claim")
CONCURRENCY = 20
WAIT = 30.0  # seconds a round waits for its replies
QUIET = 1.0  # seconds without a new call before the next round


def object_id(i: int) -> str:
    """The Entra object id of benchmark broker `i`."""
    return f"0b0b0b0b-0000-4000-8000-{i:012d}"


def chat(i: int) -> str:
    return f"a:personal-bench-{i:02d}"


class TimedMicrosoft(LocalMicrosoft):
    """The rig, noting when each post of the bot arrives: (time, conversation), and each update
    of an activity in place (a card): (time, conversation)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.arrived: list[tuple[float, str]] = []
        self.edited: list[tuple[float, str]] = []

    async def _post(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        response = await super()._post(request)
        if response.status == 200:
            self.arrived.append((at, request.match_info["conversation"]))
        return response

    async def _put(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        response = await super()._put(request)
        if response.status == 200:
            self.edited.append((at, request.match_info["conversation"]))
        return response


@dataclass
class Samples:
    ack: list[float] = field(default_factory=list)
    reply: list[float] = field(default_factory=list)
    card: list[float] = field(default_factory=list)  # the card pressed on, updated in place
    lost: int = 0  # replies that did not come within WAIT, or acknowledgements not 2xx


class App:
    """A Teams bot in its own process, reaching `rig` through the proxy and its CA."""

    def __init__(self, mode: str, rig: LocalMicrosoft, *extra: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        env = {
            **os.environ,
            "PYTHONPATH": str(HERE.parent),
            "HTTPS_PROXY": rig.proxy_url,
            "https_proxy": rig.proxy_url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "SSL_CERT_FILE": str(rig.ca_path),
            "REQUESTS_CA_BUNDLE": str(rig.ca_path),
        }
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "teams_server.py"), mode, str(self.port), *extra], env=env
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self, http: httpx.AsyncClient) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app stopped with {self.process.returncode}")
            try:
                await http.get(f"{self.url}/healthz")  # (the bare app asks a token even here)
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


def _activity(rig: LocalMicrosoft, kind: str, i: int, claimable: list[list[str]]) -> dict[str, Any]:
    if kind == "/cases":
        return activity(rig, object_id=object_id(i), text="/cases", conversation=chat(i))
    value = {"vangnet": f"claim:{claimable[i].pop()}"}
    return activity(
        rig, object_id=object_id(i), value=value, conversation=chat(i), reply_to_id=f"card-{i}"
    )


async def _quiet(rig: TimedMicrosoft) -> None:
    while rig.arrived and time.monotonic() - rig.arrived[-1][0] < QUIET:
        await asyncio.sleep(0.1)


async def _round(
    http: httpx.AsyncClient,
    app: App,
    rig: TimedMicrosoft,
    kind: str,
    claimable: list[list[str]],
    s: Samples,
) -> None:
    bodies = [_activity(rig, kind, i, claimable) for i in range(CONCURRENCY)]
    tokens = [rig.token() for _ in bodies]  # signed before the clock starts
    seen, edits = len(rig.arrived), len(rig.edited)

    async def post(body: dict[str, Any], token: str) -> tuple[float, float | None]:
        started = time.monotonic()
        response = await http.post(
            f"{app.url}/api/messages", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        took = time.monotonic() - started
        return started, took if response.status_code < 300 else None

    posted = await asyncio.gather(*(post(b, t) for b, t in zip(bodies, tokens, strict=True)))
    asking = {chat(i): posted[i][0] for i in range(CONCURRENCY)}
    replies: dict[str, float] = {}
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        new, seen = rig.arrived[seen:], len(rig.arrived)
        for at, conversation in new:
            if conversation in asking and conversation not in replies:
                replies[conversation] = at - asking[conversation]
        if len(replies) == CONCURRENCY:
            break
        await asyncio.sleep(0.01)
    cards: dict[str, float] = {}
    for at, conversation in rig.edited[edits:]:
        if conversation in asking and conversation not in cards:
            cards[conversation] = at - asking[conversation]
    acks = [took for _, took in posted if took is not None]
    s.ack.extend(acks)
    s.reply.extend(replies.values())
    s.card.extend(cards.values())
    s.lost += CONCURRENCY - len(replies) + CONCURRENCY - len(acks)
    await _quiet(rig)


async def measure(
    mode: str, folder: Path, claimable: list[list[str]], *extra: str, rounds: int
) -> dict[str, Samples]:
    rig = TimedMicrosoft(folder)
    rig.start()
    app = App(mode, rig, *extra)
    results: dict[str, Samples] = {}
    try:
        limits = httpx.Limits(max_connections=CONCURRENCY * 2)
        async with httpx.AsyncClient(timeout=60.0, limits=limits, trust_env=False) as http:
            await app.ready(http)
            await _round(http, app, rig, "/cases", claimable, Samples())  # warm-up
            for kind in KINDS:
                s = results[kind] = Samples()
                for _ in range(rounds):
                    await _round(http, app, rig, kind, claimable, s)
    finally:
        app.stop()
        rig.stop()
    return results


def figures(db: Any, n: int, rounds: int) -> list[Figure]:
    """Vangnet's Teams server at `n` cases (a copy of the builder's cached database, the
    first broker of each of 20 municipalities on Teams), 20 brokers at once, beside the bare
    Agents SDK app. `db` is run.py's Databases (SQLite)."""
    import tempfile

    from benchmarks import builder
    from bot.store.db import make_engine, session_scope
    from bot.store.models import Person

    codes = [code for code, _ in db.w.municipalities[:CONCURRENCY]]
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("bare", "vangnet"):
            (Path(tmp) / name).mkdir()
        made_up = [[f"R{i:02d}{k}" for k in range(rounds + 1)] for i in range(CONCURRENCY)]
        bare = asyncio.run(measure("bare", Path(tmp) / "bare", made_up, rounds=rounds))
        with db.with_cases(n) as url:
            engine = make_engine(url)
            try:
                due = builder.add_due(engine, db.w, per_municipality=rounds + 1, municipalities=20)
                with session_scope(engine) as session:
                    for i, code in enumerate(codes):
                        person = session.get(Person, db.w.brokers[code][0])
                        assert person is not None
                        person.teams_id = object_id(i)
                        session.add(person)
            finally:
                engine.dispose()
            ours = asyncio.run(
                measure(
                    "vangnet",
                    Path(tmp) / "vangnet",
                    [list(due[code]) for code in codes],
                    url,
                    str(db.w.region_file),
                    rounds=rounds,
                )
            )
    out: list[Figure] = []
    base = "bare Agents SDK app"
    for kind in KINDS:
        s, b = ours[kind], bare[kind]
        for what, mine, theirs in (
            ("acknowledgement", s.ack, b.ack),
            ("reply posted", s.reply, b.reply),
        ):
            for p in (50, 99):
                out.append(
                    Figure(
                        db.name,
                        f"Teams {what} p{p} {kind}, 20 at once, {n:,} cases"
                        + (f" ({s.lost} lost)" if s.lost else ""),
                        pct(mine, p) * 1000 if mine else float("nan"),
                        "ms",
                        pct(theirs, p) * 1000 if theirs else None,
                        base,
                    )
                )
        if kind == "Claim" and s.card:
            for p in (50, 99):
                out.append(
                    Figure(
                        db.name,
                        f"Teams card updated p{p} {kind}, 20 at once, {n:,} cases",
                        pct(s.card, p) * 1000,
                        "ms",
                    )
                )
    return out
