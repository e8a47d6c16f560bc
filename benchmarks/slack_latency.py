"""Slack acknowledgement latency and time until the reply is posted, against a bare bolt app.

Each app runs in a process of its own (`slack_server.py`), in HTTP mode on 127.0.0.1, talking
to the fake Slack of the tests (tests/handlers/slack/fake_slack.py), which runs here and records when
each answer through a response_url arrives. Requests are the ones Slack sends (the tests'
recorded payloads), signed with the signing secret. Measured per kind of request:

- ack: from sending the request until the HTTP answer (Slack's acknowledgement) is back;
- reply: from sending the request until the fake Slack received the answer on the
  request's response_url;

one at a time, and 20 at once (each request by another person), after a warm-up. Baselines:
a bare bolt app that only acknowledges, one that answers, and one that acknowledges in its
route (as Vangnet's does) and answers after (`slack_server.py`).

`memory_load`: the server's RSS after 10,000 requests (20 at once), then after ten /digest
with their charts.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.slack_server import SECRET
from benchmarks.table import rss_mb
from tests.handlers.slack.factories import (
    SlackRequest,
    make_block_action,
    make_slash_command,
    signed_request,
)
from tests.handlers.slack.fake_slack import FakeSlack

HERE = Path(__file__).resolve().parent
KINDS = ("/cases", "/leavers", "/case REF", "Claim click")
CONCURRENCY = 20


@dataclass
class Samples:
    seq_ack: list[float] = field(default_factory=list)
    seq_reply: list[float] = field(default_factory=list)
    conc_ack: list[float] = field(default_factory=list)
    conc_reply: list[float] = field(default_factory=list)
    lost_replies: int = 0


@dataclass
class Targets:
    """Who asks what: person i (0..19) is broker i (of municipality i) or school contact i."""

    case_refs: list[str]  # a case in broker i's municipality
    claimable: list[list[str]]  # due cases of municipality i, to claim

    def request(self, kind: str, i: int, response_url: str) -> SlackRequest:
        broker = f"UB{i:03d}0"
        if kind == "/cases":
            return make_slash_command("/cases", user=broker, response_url=response_url)
        if kind == "/leavers":
            return make_slash_command("/leavers", user=f"UC{i:03d}", response_url=response_url)
        if kind == "/case REF":
            line = f"/case {self.case_refs[i]}"
            return make_slash_command(line, user=broker, response_url=response_url)
        ref = self.claimable[i].pop()
        return make_block_action(
            f"claim:{ref}", user=broker, channel="C0NETWERK", response_url=response_url
        )


class App:
    """A Slack app in its own process."""

    def __init__(self, mode: str, api_url: str, *extra: str) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "slack_server.py"), mode, str(self.port), api_url, *extra],
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self, http: httpx.AsyncClient) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app stopped with {self.process.returncode}")
            try:
                if (await http.get(f"{self.url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError("the app did not come up")

    def rss(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def _one(
    http: httpx.AsyncClient,
    fake: FakeSlack,
    app: App,
    make: Callable[[str], SlackRequest],
    name: str,
) -> tuple[float, str, float]:
    request = make(fake.response_url(name))
    headers = {"Content-Type": request.content_type, **signed_request(request.body, SECRET)}
    started = time.monotonic()
    response = await http.post(
        f"{app.url}/slack/events", content=request.body.encode(), headers=headers
    )
    ack = time.monotonic() - started
    if response.status_code != 200:
        raise RuntimeError(f"{name}: HTTP {response.status_code} {response.text[:100]}")
    return started, name, ack


async def _replies(fake: FakeSlack, sent: list[tuple[float, str]], samples: list[float]) -> int:
    """Wait (up to 10 s) for each request's first answer; its delay goes in `samples`.
    Returns how many never came."""
    deadline = time.monotonic() + 10
    waiting = dict((name, started) for started, name in sent)
    while waiting and time.monotonic() < deadline:
        for call in fake.calls:
            started = waiting.get(call.body.get("__name__", ""))
            if call.method == "respond" and started is not None:
                samples.append(call.at - started)
                del waiting[call.body["__name__"]]
        if waiting:
            await asyncio.sleep(0.01)
    fake.calls.clear()
    return len(waiting)


async def measure(
    app: App,
    fake: FakeSlack,
    targets: Targets,
    *,
    sequential: int,
    rounds: int,
    tag: str,
    replies: bool = True,
) -> dict[str, Samples]:
    """Samples per kind of request; `replies`: wait for each answer (an app that only
    acknowledges sends none)."""

    async def answered(sent: list[tuple[float, str]], samples: list[float]) -> int:
        if not replies:
            fake.calls.clear()
            return 0
        return await _replies(fake, sent, samples)

    results: dict[str, Samples] = {}
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as http:
        await app.ready(http)
        for kind in ("/cases", "/leavers", "/case REF"):  # warm-up: connections, caches
            for i in range(3):
                started, name, _ = await _one(
                    http,
                    fake,
                    app,
                    lambda url, k=kind, i=i: targets.request(k, i, url),
                    f"{tag}-w{KINDS.index(kind)}-{i}",
                )
                await answered([(started, name)], [])
        for kind in KINDS:
            s = results[kind] = Samples()
            for n in range(sequential):
                i = n % CONCURRENCY
                started, name, ack = await _one(
                    http,
                    fake,
                    app,
                    lambda url, k=kind, i=i: targets.request(k, i, url),
                    f"{tag}-s{KINDS.index(kind)}-{n}",
                )
                s.seq_ack.append(ack)
                s.lost_replies += await answered([(started, name)], s.seq_reply)
            for r in range(rounds):
                sent = await asyncio.gather(
                    *(
                        _one(
                            http,
                            fake,
                            app,
                            lambda url, k=kind, i=i: targets.request(k, i, url),
                            f"{tag}-c{KINDS.index(kind)}-{r}-{i}",
                        )
                        for i in range(CONCURRENCY)
                    )
                )
                s.conc_ack.extend(a for _, _, a in sent)
                s.lost_replies += await answered([(st, nm) for st, nm, _ in sent], s.conc_reply)
    return results


async def start_fake() -> FakeSlack:
    return await FakeSlack().start()


async def memory_load(
    app: App, fake: FakeSlack, targets: Targets, *, requests: int, digests: int
) -> tuple[float, float, float]:
    """RSS (MB) after `requests` requests (/cases, /leavers and /case REF by turns, 20 at
    once, each round waiting for its answers), then after `digests` /digest by the
    coordinator, each waiting for its chart's upload: (idle, after the requests, after the
    digests)."""
    kinds = ("/cases", "/leavers", "/case REF")
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as http:
        await app.ready(http)
        idle = app.rss()
        for r in range(-(-requests // CONCURRENCY)):
            kind = kinds[r % len(kinds)]
            sent = await asyncio.gather(
                *(
                    _one(
                        http,
                        fake,
                        app,
                        lambda url, k=kind, i=i: targets.request(k, i, url),
                        f"m-{r}-{i}",
                    )
                    for i in range(CONCURRENCY)
                )
            )
            await _replies(fake, [(st, nm) for st, nm, _ in sent], [])
        after_requests = app.rss()
        for d in range(digests):
            request = make_slash_command(
                "/digest", user="UCOORD", channel="DCOORD", response_url=fake.response_url(f"d{d}")
            )
            headers = {"Content-Type": request.content_type, **signed_request(request.body, SECRET)}
            await http.post(
                f"{app.url}/slack/events", content=request.body.encode(), headers=headers
            )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not fake.calls_to("files.completeUploadExternal"):
                await asyncio.sleep(0.1)
            if not fake.calls_to("files.completeUploadExternal"):
                raise RuntimeError("a /digest's chart did not come within 60 s")
            fake.calls.clear()
        return idle, after_requests, app.rss()
