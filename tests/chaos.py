"""Crashes and outages from outside: real `vangnet run` processes against the fake Slack, a
PostgreSQL server of our own that can be stopped and started, and what Slack ended up showing.

Used by tests/test_chaos.py (behaviour) and benchmarks/recovery.py (figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlmodel import col, select

from bot.core import clock
from bot.core.directory import sync_region
from bot.core.messaging.outbox import enqueue
from bot.core.replies import Reply
from bot.region_file import load_demo_region
from bot.store import crypto
from bot.store.db import make_engine, session_scope, upgrade
from bot.store.models import OutboxMessage, Person
from tests.conftest import TEST_KEY as KEY  # the tests' databases are made with it
from tests.handlers.slack.fake_slack import FakeSlack
from tests.handlers.telegram.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
SECRET = "chaos-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a PostgreSQL server of our own --------------------------------------------------------


def postgres_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def have_postgres_server() -> bool:
    return postgres_bin("initdb") is not None and postgres_bin("pg_ctl") is not None


class OwnPostgres:
    """A throw-away PostgreSQL cluster in a temporary directory (initdb, pg_ctl), on a free
    port of 127.0.0.1 with trust authentication, that a test can stop and start."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vangnet-pg-", dir="/tmp"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir, "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as_postgres, *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.dir,
        )

    def init(self) -> OwnPostgres:
        initdb = postgres_bin("initdb")
        assert initdb is not None
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        pg_ctl = postgres_bin("pg_ctl")
        assert pg_ctl is not None
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        log = str(self.dir / "log")
        self._run(pg_ctl, "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """Stopped at once: every connection is cut, as in an outage."""
        pg_ctl = postgres_bin("pg_ctl")
        assert pg_ctl is not None
        self._run(pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres().init()
    server.start()
    try:
        yield server
    finally:
        server.remove()


# --- the database: the demo region and messages that are due -------------------------------


def prepare(url: str, messages: int) -> list[int]:
    """Migrate, load the demo region's people, and record `messages` messages for the people
    Slack reaches, round the people in turn: their outbox ids."""
    crypto.use_keys([KEY])
    engine = make_engine(url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            sync_region(session, load_demo_region())
        with session_scope(engine) as session:
            people = [
                p.id
                for p in session.exec(select(Person).order_by(col(Person.id))).all()
                if p.active and p.slack_id
            ]
            for n in range(messages):
                person = people[n % len(people)]
                enqueue(session, person_id=person, kind="chaos", reply=Reply(text=f"chaos {n}"))
        with session_scope(engine) as session:
            return [
                int(m.id or 0)
                for m in session.exec(
                    select(OutboxMessage).where(col(OutboxMessage.kind) == "chaos")
                ).all()
            ]
    finally:
        engine.dispose()


def prepare_cards(url: str, *, due: dict[str, int]) -> list[str]:
    """Migrate, load the demo region, and register early leavers (due at once: their cards
    go out) living in these municipalities (name → how many): their references."""
    from bot.core.app import Core
    from tests.factories import make_leaver

    crypto.use_keys([KEY])
    engine = make_engine(url)
    region = load_demo_region()
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            sync_region(session, region)
        core = Core(engine=engine, region=region, default_language="nl")
        this_month = clock.today(region.tz).strftime("%Y-%m")
        return [
            make_leaver(
                core, home_municipality=place, early_leaver="yes", expected_exit=this_month
            ).ref
            for place, n in due.items()
            for _ in range(n)
        ]
    finally:
        engine.dispose()


def stranded(url: str, refs: list[str]) -> list[str]:
    """The cases whose card reached nobody: none of their case cards was sent."""
    engine = make_engine(url)
    try:
        with session_scope(engine, write=False) as session:
            reached = set(
                session.exec(
                    select(OutboxMessage.case_ref).where(
                        col(OutboxMessage.case_ref).in_(refs),
                        col(OutboxMessage.kind) == "due",
                        col(OutboxMessage.sent_at).is_not(None),
                    )
                ).all()
            )
        return [r for r in refs if r not in reached]
    finally:
        engine.dispose()


@dataclass
class Tally:
    """What Slack shows of the outbox ids we care about."""

    expected: list[int]
    posted: Counter[int] = field(default_factory=Counter)

    @property
    def missing(self) -> list[int]:
        return [i for i in self.expected if self.posted[i] == 0]

    @property
    def doubled(self) -> int:
        return sum(n - 1 for i, n in self.posted.items() if n > 1 and i in self.expected)

    @property
    def complete(self) -> bool:
        return not self.missing


def tally(fake: FakeSlack, expected: list[int]) -> Tally:
    """How often each outbox id was posted (by the id in the message's metadata)."""
    found = Tally(expected=expected)
    for messages in fake.history.values():
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if "outbox_id" in payload:
                found.posted[int(payload["outbox_id"])] += 1
    return found


def unsent_leased(url: str) -> int:
    """Unsent messages still leased by someone."""
    engine = make_engine(url)
    try:
        with session_scope(engine, write=False) as session:
            rows = session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.sent_at).is_(None),
                    col(OutboxMessage.leased_until).is_not(None),
                )
            ).all()
            return len(rows)
    finally:
        engine.dispose()


def unsent(url: str, ids: list[int]) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine, write=False) as session:
            rows = session.exec(
                select(OutboxMessage).where(
                    col(OutboxMessage.id).in_(ids), col(OutboxMessage.sent_at).is_(None)
                )
            ).all()
            return len(rows)
    finally:
        engine.dispose()


# --- `vangnet run` as a process -------------------------------------------------------------


class Vangnet:
    """`vangnet run` in HTTP mode against the fake Slack, as its own process (`telegram`: and
    against the fake Telegram, by long polling)."""

    def __init__(
        self,
        database_url: str,
        fake: FakeSlack,
        workdir: Path,
        *,
        telegram: FakeTelegram | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "TELEGRAM_", "VANGNET_", "DATABASE_URL"))
        }
        self.env = env | {
            "DATABASE_URL": database_url,
            "VANGNET_SECRET_KEY": KEY.decode(),
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "PORT": str(self.port),
            "PYTHONPATH": str(ROOT),
        }
        if telegram is not None:
            self.env |= {
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_URL": telegram.api_root,
            }
        self.workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Vangnet:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.workdir,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return self

    async def healthy(self) -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{self.url}/healthz", timeout=2)).status_code == 200
        except httpx.TransportError:
            return False

    async def kill(self) -> None:
        """kill -9: no goodbye, leases stay until they run out."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as a deployment stops a process; its exit status."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout=timeout)
