"""How Vangnet recovers: crashes, a clean stop, and outages of Slack and of PostgreSQL.

Runs real `vangnet run` processes in HTTP mode against the fake Slack of the tests (which
answers each chat.postMessage `--slow` seconds after posting it, so that a kill often lands
between "Slack has it" and "the database knows") and against a PostgreSQL server of its own
(initdb and pg_ctl in a temporary directory). Prints one table: for each scenario, how many
messages, how many Slack shows twice or not at all, and how long after the trouble ended the
last one arrived.

    .venv/bin/python benchmarks/recovery.py [--kills 10] [--messages 120] [--outage 30]

Needs initdb and pg_ctl (PostgreSQL's server binaries); run as root it runs them as the
`postgres` user. Takes a few minutes: a message leased by a killed process waits out its
two-minute lease before the next sender looks for it in Slack's history.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.*

from tests.chaos import (
    OwnPostgres,
    Vangnet,
    have_postgres_server,
    own_postgres,
    prepare,
    tally,
)
from tests.handlers.slack.fake_slack import FakeSlack

DEADLINE = 600.0  # seconds a scenario may take to deliver everything before it counts as lost


@dataclass
class Row:
    scenario: str
    messages: int
    doubled: int
    missing: int
    recovery: float | None  # seconds from the end of the trouble to the last message


async def until_complete(fake: FakeSlack, ids: list[int]) -> float | None:
    """Seconds until Slack shows every message (None: not within DEADLINE)."""
    start = time.monotonic()
    while not tally(fake, ids).complete:
        if time.monotonic() - start > DEADLINE:
            return None
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def until(check: Callable[[], Awaitable[bool]] | Callable[[], bool]) -> None:
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("a process did not start in time")


async def started(vangnet: Vangnet) -> Vangnet:
    await vangnet.start()
    await until(vangnet.healthy)
    return vangnet


def posted(fake: FakeSlack, ids: list[int]) -> int:
    return sum(tally(fake, ids).posted.values())


async def scenario(
    name: str,
    args: argparse.Namespace,
    trouble: Callable[[OwnPostgres, FakeSlack, list[int], Path], Awaitable[list[Vangnet]]],
) -> Row:
    fake = await FakeSlack().start()
    fake.slow = args.slow
    workdir = Path(tempfile.mkdtemp(prefix="vangnet-bench-"))
    with own_postgres() as pg:
        ids = prepare(pg.url, args.messages)
        running = await trouble(pg, fake, ids, workdir)
        recovery = await until_complete(fake, ids)
        for vangnet in running:
            await vangnet.terminate()
    await fake.stop()
    found = tally(fake, ids)
    return Row(name, len(ids), found.doubled, len(found.missing), recovery)


def kill_loop(kills: int) -> Callable[..., Awaitable[list[Vangnet]]]:
    async def trouble(
        pg: OwnPostgres, fake: FakeSlack, ids: list[int], workdir: Path
    ) -> list[Vangnet]:
        instances = [
            await started(Vangnet(pg.url, fake, workdir)),
            await started(Vangnet(pg.url, fake, workdir)),
        ]
        for kill in range(kills):
            await asyncio.sleep(random.uniform(0.3, 1.5))
            await instances[kill % 2].kill()
            instances[kill % 2] = await started(Vangnet(pg.url, fake, workdir))
        return instances

    return trouble


async def sigterm(pg: OwnPostgres, fake: FakeSlack, ids: list[int], workdir: Path) -> list[Vangnet]:
    one = await started(Vangnet(pg.url, fake, workdir))
    await until(lambda: posted(fake, ids) >= 5)
    await one.terminate()
    return [await started(Vangnet(pg.url, fake, workdir))]


def slack_outage(seconds: float) -> Callable[..., Awaitable[list[Vangnet]]]:
    async def trouble(
        pg: OwnPostgres, fake: FakeSlack, ids: list[int], workdir: Path
    ) -> list[Vangnet]:
        vangnet = await started(Vangnet(pg.url, fake, workdir))
        await until(lambda: posted(fake, ids) >= 5)
        port = fake.port
        await fake.stop()
        await asyncio.sleep(seconds)
        await fake.start(port)
        return [vangnet]

    return trouble


def database_outage(seconds: float) -> Callable[..., Awaitable[list[Vangnet]]]:
    async def trouble(
        pg: OwnPostgres, fake: FakeSlack, ids: list[int], workdir: Path
    ) -> list[Vangnet]:
        vangnet = await started(Vangnet(pg.url, fake, workdir))
        await until(lambda: posted(fake, ids) >= 5)
        pg.stop()
        await asyncio.sleep(seconds)
        pg.start()
        return [vangnet]

    return trouble


async def main(args: argparse.Namespace) -> list[Row]:
    return [
        await scenario(f"kill -9 one of two, {args.kills}×", args, kill_loop(args.kills)),
        await scenario("SIGTERM mid-batch, restart", args, sigterm),
        await scenario(f"Slack away {args.outage:g} s", args, slack_outage(args.outage)),
        await scenario(f"PostgreSQL away {args.outage:g} s", args, database_outage(args.outage)),
    ]


def table(rows: list[Row]) -> str:
    lines = [
        "| scenario | messages | doubled | missing | last message after (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        after = "never" if r.recovery is None else f"{r.recovery:.1f}"
        lines.append(f"| {r.scenario} | {r.messages} | {r.doubled} | {r.missing} | {after} |")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--messages", type=int, default=120)
    parser.add_argument("--outage", type=float, default=30.0, help="seconds Slack or PG is away")
    parser.add_argument("--slow", type=float, default=0.1, help="seconds Slack takes per post")
    arguments = parser.parse_args()
    if not have_postgres_server():
        sys.exit("benchmarks/recovery.py needs initdb and pg_ctl (PostgreSQL's server binaries)")
    print(table(asyncio.run(main(arguments))))
    print(
        f"\n{arguments.messages} messages over the demo region's Slack people; Slack's pace of one"
        " message a second per chat bounds how fast a backlog can go. A message leased by a"
        " killed process waits out its two-minute lease before it is looked for and sent."
    )
