"""`make bench`: every benchmark, on SQLite and (when VANGNET_TEST_DATABASE_URL names a
PostgreSQL database) on PostgreSQL, each figure beside a baseline measured in the same run;
prints the table and writes it to benchmarks/results.md with the machine's facts.

    BENCH_QUICK=1   fewer sizes and samples (0 and 10,000 cases; delivery of 200 cases)
    BENCH_ONLY=slack,telegram,scan,import,digest,sweep,delivery,round,memory,national  a subset (its
        figures are written in a section of their own in results.md, the rest kept)
    BENCH_NOTE="…"  a line for the results file (say, that the machine was shared)

Data comes from `builder.py` (SQLite databases cached per size; PostgreSQL databases cloned
from a template database built once per size on the same server).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from benchmarks import builder, scan_votes, slack_latency, teams_latency, telegram_latency, work
from benchmarks.table import Figure, check, machine, markdown, pct, plain
from bot.store.db import make_engine

HERE = Path(__file__).resolve().parent
QUICK = os.environ.get("BENCH_QUICK") == "1"
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
SIZES = [0, 10_000] if QUICK else [0, 10_000, 100_000]
BIG = SIZES[-1]
# national scale: a database of 500,000 cases (the builder's region holds them all)
NATIONAL = 500_000
# Slack: requests one at a time, and rounds of 20 at once (five rounds: 100 samples, so that
# a p99 is not simply the slowest of a few dozen)
SEQUENTIAL, ROUNDS = (20, 1) if QUICK else (30, 5)


def wanted(name: str) -> bool:
    return not ONLY or name in ONLY


# --- databases ----------------------------------------------------------------------------


class Databases:
    """Fresh databases with N cases: copies of cached SQLite files, or PostgreSQL databases
    made from a template database (CREATE DATABASE … TEMPLATE, a file copy on the server)."""

    def __init__(self, name: str, w: builder.World, tmp: Path, pg_url: str | None) -> None:
        self.name = name
        self.w = w
        self.tmp = tmp
        self.pg_url = pg_url
        self.made = 0

    @contextmanager
    def with_cases(self, n: int) -> Iterator[str]:
        self.made += 1
        if self.pg_url is None:
            path = builder.sqlite_copy(self.w, n, self.tmp / f"run{self.made}.db")
            try:
                yield f"sqlite:///{path}"
            finally:
                path.unlink(missing_ok=True)
                for extra in ("-wal", "-shm"):
                    Path(f"{path}{extra}").unlink(missing_ok=True)
            return
        template = f"vb_{self.w.region_file.stem.replace('-', '_')}_{builder.schema_key()}_{n}"
        copy = f"vb_run_{os.getpid()}_{self.made}"
        admin = make_engine(self.pg_url).execution_options(isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": template}
                ).first()
                if not exists:
                    building = template + "_building"
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{building}"'))
                    conn.execute(text(f'CREATE DATABASE "{building}"'))
                    builder.prepare(self._url(building), self.w, n)
                    # as autovacuum leaves a database that has settled: the visibility map
                    # set, so counts over an index need not visit the table
                    vacuum = make_engine(self._url(building))
                    try:
                        with vacuum.execution_options(isolation_level="AUTOCOMMIT").connect() as c:
                            c.execute(text("VACUUM ANALYZE"))
                    finally:
                        vacuum.dispose()
                    conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{template}"'))
                conn.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"'))
                # the copy's writes flushed now, not by a checkpoint in the middle of what
                # is measured next (a superuser's right; without it, the server's own time)
                with suppress(DBAPIError):  # (not allowed: then measured as it comes)
                    conn.execute(text("CHECKPOINT"))
            yield self._url(copy)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
            admin.dispose()

    def _url(self, database: str) -> str:
        assert self.pg_url is not None
        base, _, _ = self.pg_url.partition("?")
        return base.rsplit("/", 1)[0] + "/" + database

    @contextmanager
    def empty(self) -> Iterator[str]:
        """A migrated database with the region and no cases."""
        with self.with_cases(0) as url:
            yield url


def pg_version(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


# --- Slack --------------------------------------------------------------------------------


def slack_figures(
    db: Databases, baselines: dict[str, slack_latency.Samples], sizes: list[int] = SIZES
) -> list[Figure]:
    figures: list[Figure] = []
    sequential, rounds = SEQUENTIAL, ROUNDS

    async def one_size(url: str, n: int) -> tuple[dict[str, slack_latency.Samples], float, float]:
        engine = make_engine(url)
        try:
            due = builder.add_due(
                engine, db.w, per_municipality=-(-sequential // 20) + rounds + 1, municipalities=20
            )
            targets = slack_latency.Targets(
                case_refs=[refs[0] for refs in due.values()],
                claimable=[list(refs[1:]) for refs in due.values()],
            )
        finally:
            engine.dispose()
        fake = await slack_latency.start_fake()
        app = slack_latency.App("vangnet", fake.api_url, url, str(db.w.region_file))
        try:
            async with _client() as http:
                await app.ready(http)
            idle = app.rss()
            samples = await slack_latency.measure(
                app, fake, targets, sequential=sequential, rounds=rounds, tag=f"{n}"
            )
            loaded = app.rss()
        finally:
            app.stop()
            await fake.stop()
        return samples, idle, loaded

    for n in sizes:
        with db.with_cases(n) as url:
            samples, idle, loaded = asyncio.run(one_size(url, n))
        for kind, s in samples.items():
            base = baselines[kind]
            for mode, acks, base_acks in (
                ("sequential", s.seq_ack, base.seq_ack),
                ("20 at once", s.conc_ack, base.conc_ack),
            ):
                p50, p99 = pct(acks, 50) * 1000, pct(acks, 99) * 1000
                b50, b99 = pct(base_acks, 50) * 1000, pct(base_acks, 99) * 1000
                figures.append(
                    Figure(
                        db.name, f"ack p50 {kind}, {mode}, {n:,} cases", p50, "ms", b50, "bare bolt"
                    )
                )
                figures.append(
                    Figure(
                        db.name, f"ack p99 {kind}, {mode}, {n:,} cases", p99, "ms", b99, "bare bolt"
                    )
                )
                # the fair baseline: a bare bolt app whose route acknowledges, as Vangnet's does
                early = early_baselines[kind]
                e99 = pct(early.seq_ack if mode == "sequential" else early.conc_ack, 99) * 1000
                wanted_here = n >= BIG and mode == "20 at once"
                f = Figure(
                    db.name,
                    f"ack p99 {kind}, {mode}, {n:,} cases",
                    p99,
                    "ms",
                    e99,
                    "bare bolt acking in its route",
                    target="≤ 1.5× bare acking in its route" if wanted_here else "",
                )
                if wanted_here:
                    check(f, p99 <= 1.5 * e99, _ack_reason(p99, e99))
                figures.append(f)
            for b_what, b_samples in (
                ("bare bolt that answers", base.conc_reply),
                ("bare bolt acking in its route, answering", early.conc_reply),
            ):
                f = Figure(
                    db.name,
                    f"reply posted p99 {kind}, 20 at once, {n:,} cases",
                    pct(s.conc_reply, 99) * 1000,
                    "ms",
                    pct(b_samples, 99) * 1000,
                    b_what,
                    target="< 200 ms" if n >= BIG and b_samples is base.conc_reply else "",
                )
                if f.target:
                    lost = (
                        f"; {s.lost_replies} replies did not come within 10 s"
                        if s.lost_replies
                        else ""
                    )
                    check(f, f.value < 200 and not s.lost_replies, REPLY_REASON[db.name] + lost)
                figures.append(f)
        figures.append(
            Figure(
                db.name,
                f"RSS serving Slack, idle, {n:,} cases",
                idle,
                "MB",
                baselines_rss[0],
                "bare bolt idle",
            )
        )
        f = Figure(
            db.name,
            f"RSS serving Slack after the load, {n:,} cases",
            loaded,
            "MB",
            baselines_rss[1],
            "bare bolt after the load",
            target="< 150 MB" if n == BIG else "",
        )
        if n == BIG:
            check(
                f,
                loaded < 150,
                "each SQLite connection keeps its own page cache (capped at 256 KiB, was 2 MiB),"
                " one per busy worker thread, and the worker threads' malloc arenas keep what"
                " they freed",
            )
        figures.append(f)
    return figures


baselines_rss: list[float] = [0.0, 0.0]
early_baselines: dict[str, slack_latency.Samples] = {}
_REPLY = (
    "a request costs some 6-7 ms of the server's CPU (bolt, its replay record, who asks, the"
    " queries, rendering, the answer's HTTP call; Python runs one thread at a time) and 2-3 ms"
    " of the database's and of the measuring client's, all on the same two cores: the 20th"
    " of 20 at once waits for the 19 before it"
)
REPLY_REASON = {
    "SQLite": _REPLY + "; writers take turns at SQLite's one write lock",
    "PostgreSQL": _REPLY + "; a request's statements are some 12 round trips to the server",
}


def _ack_reason(p99: float, b99: float) -> str:
    return (
        "the route acknowledges before bolt runs, as the baseline's does; its answer then"
        " waits its turn on the one event loop (and for the GIL) behind the other requests'"
        " bolt dispatch, answers and worker threads, which the bare app does not have"
    )


@contextmanager
def _noop() -> Iterator[None]:
    yield


def _client():  # type: ignore[no-untyped-def]
    import httpx

    return httpx.AsyncClient(timeout=10.0)


def bare_baselines() -> dict[str, slack_latency.Samples]:
    """The bare bolt app: acknowledging only (ack latency), and answering (reply time); and
    a bare bolt app acknowledging in its route, answering after (`early_baselines`)."""
    sequential, rounds = SEQUENTIAL, ROUNDS
    per = -(-sequential // 20) + rounds + 1
    targets = lambda: slack_latency.Targets(  # noqa: E731
        case_refs=["REF1"] * 20, claimable=[[f"R{i}{k}" for k in range(per)] for i in range(20)]
    )

    async def run(mode: str) -> tuple[dict[str, slack_latency.Samples], float, float]:
        fake = await slack_latency.start_fake()
        app = slack_latency.App(mode, fake.api_url)
        try:
            async with _client() as http:
                await app.ready(http)
            idle = app.rss()
            samples = await slack_latency.measure(
                app,
                fake,
                targets(),
                sequential=sequential,
                rounds=rounds,
                tag=mode,
                replies=mode != "bare",
            )
            return samples, idle, app.rss()
        finally:
            app.stop()
            await fake.stop()

    acks, idle, loaded = asyncio.run(run("bare"))
    baselines_rss[:] = [idle, loaded]
    answers, _, _ = asyncio.run(run("bare-answer"))
    early, _, _ = asyncio.run(run("bare-early"))
    early_baselines.update(early)
    for kind, s in acks.items():
        s.seq_reply, s.conc_reply = answers[kind].seq_reply, answers[kind].conc_reply
    return acks


# --- memory -------------------------------------------------------------------------------

MEMORY_REQUESTS, DIGESTS = (1_000, 3) if QUICK else (10_000, 10)


def memory_figures(db: Databases) -> list[Figure]:
    """The Slack server's RSS at the biggest size after many requests, then after /digest
    with its chart again and again (charts are drawn in a worker process: `bot.core.drawing`)."""

    async def run(url: str) -> tuple[float, float, float]:
        engine = make_engine(url)
        try:
            due = builder.add_due(engine, db.w, per_municipality=1, municipalities=20)
        finally:
            engine.dispose()
        targets = slack_latency.Targets(
            case_refs=[refs[0] for refs in due.values()], claimable=[[] for _ in due]
        )
        fake = await slack_latency.start_fake()
        app = slack_latency.App("vangnet", fake.api_url, url, str(db.w.region_file))
        try:
            return await slack_latency.memory_load(
                app, fake, targets, requests=MEMORY_REQUESTS, digests=DIGESTS
            )
        finally:
            app.stop()
            await fake.stop()

    with db.with_cases(BIG) as url:
        idle, after_requests, after_digests = asyncio.run(run(url))
    out = [
        Figure(
            db.name,
            f"RSS serving Slack, idle, {BIG:,} cases",
            idle,
            "MB",
            baselines_rss[0],
            "bare bolt idle",
        )
    ]
    for what, value in (
        (f"after {MEMORY_REQUESTS:,} requests", after_requests),
        (f"after those and {DIGESTS} /digest with chart", after_digests),
    ):
        f = Figure(
            db.name,
            f"RSS serving Slack {what}, {BIG:,} cases",
            value,
            "MB",
            baselines_rss[1],
            "bare bolt after its load",
            target="< 150 MB",
        )
        out.append(
            check(
                f,
                value < 150,
                "what SQLAlchemy, the region and the worker threads keep (each SQLite"
                " connection its page cache, each thread's malloc arena what it freed)",
            )
        )
    return out


# --- Telegram -----------------------------------------------------------------------------

TELEGRAM_BROKERS = [builder.telegram_id("broker", i) for i in range(20)]
TELEGRAM_CONTACTS = [builder.telegram_id("contact", i) for i in range(80)]


def telegram_figures(db: Databases) -> list[Figure]:
    """Webhook mode at the biggest size, 20 brokers at once, beside a bare python-telegram-bot
    app without and with Vangnet's rate limiter."""
    rounds = ROUNDS
    bare_people = lambda: telegram_latency.People(  # noqa: E731
        brokers=TELEGRAM_BROKERS,
        claimable=[[f"R{i:02d}{k}" for k in range(rounds + 1)] for i in range(20)],
    )

    async def run(
        mode: str, people: telegram_latency.People, *extra: str
    ) -> tuple[dict[str, telegram_latency.Samples], tuple[int, int, float] | None]:
        fake = await telegram_latency.start_fake(people)
        app = telegram_latency.App(mode, fake.api_root, *extra)
        try:
            async with _client() as http:
                await app.ready(http, fake, webhook=mode == "vangnet")
            samples = await telegram_latency.measure(app, fake, people, rounds=rounds)
            notices = await telegram_latency.notices_delivered(extra[0]) if extra else None
            return samples, notices
        finally:
            app.stop()
            await fake.stop()

    bare, _ = asyncio.run(run("bare", bare_people()))
    paced, _ = asyncio.run(run("bare-paced", bare_people()))
    n = BIG
    with db.with_cases(n) as url:
        engine = make_engine(url)
        try:
            due = builder.add_due(engine, db.w, per_municipality=rounds + 1, municipalities=20)
        finally:
            engine.dispose()
        people = telegram_latency.People(
            brokers=TELEGRAM_BROKERS,
            claimable=[list(refs) for refs in due.values()],
            others=TELEGRAM_CONTACTS,
        )
        ours, notices = asyncio.run(run("vangnet", people, url, str(db.w.region_file)))
    figures: list[Figure] = []
    bases = ((bare, "bare PTB, no rate limiter"), (paced, "bare PTB, Vangnet's rate limiter"))

    def add(
        what: str,
        value: float,
        unit: str,
        of: Any,
        target: str = "",
        ok: bool = True,
        reason: str = "",
    ) -> None:
        for k, (base, base_what) in enumerate(bases):
            f = Figure(
                db.name, what, value, unit, of(base), base_what, target=target if k == 0 else ""
            )
            if target and k == 0:
                check(f, ok, reason)
            figures.append(f)

    claim = ours["Claim"]
    p99 = pct(claim.button, 99) * 1000
    add(
        f"answerCallbackQuery p99, Claim, 20 at once, {n:,} cases",
        p99,
        "ms",
        lambda b: pct(b["Claim"].button, 99) * 1000,
        "< 300 ms",
        p99 < 300 and not claim.lost,
        f"{claim.lost} not answered within 30 s" if claim.lost else BUTTON_REASON,
    )
    for kind in telegram_latency.KINDS:
        s = ours[kind]
        add(
            f"own reply p50 {kind}, 20 at once, {n:,} cases",
            pct(s.reply, 50) * 1000,
            "ms",
            lambda b, k=kind: pct(b[k].reply, 50) * 1000,
        )
        p99 = pct(s.reply, 99) * 1000
        add(
            f"own reply p99 {kind}, 20 at once, {n:,} cases",
            p99,
            "ms",
            lambda b, k=kind: pct(b[k].reply, 99) * 1000,
            "< 1 s",
            p99 < 1000 and not s.lost,
            f"{s.lost} replies not within 30 s" if s.lost else TELEGRAM_REASON,
        )
        add(
            f"updates per second {kind}, 20 at once, {n:,} cases",
            s.per_second,
            "upd/s",
            lambda b, k=kind: b[k].per_second,
        )
    if notices is not None:
        sent, waiting, took = notices
        f = Figure(
            db.name,
            f"notices the Claims queued for others, all sent on Telegram after the rounds"
            f" ({sent} sent in all)",
            took,
            "s",
            target="none lost",
        )
        figures.append(check(f, waiting == 0, f"{waiting} still waiting after 60 s"))
    return figures


BUTTON_REASON = (
    "the pace never holds answerCallbackQuery (it has no chat), and a press is answered as"
    " soon as its update arrives, beside its record (`telegram/answers.py`); what is left is"
    " reading its presser and button in a worker thread and the call itself, on two cores and"
    " one GIL shared with the work of the 20 Claims (and the rest of the machine)"
)
TELEGRAM_REASON = (
    "a Claim or /cases is some 50-100 ms of Python and database work, 20 of them share two"
    " cores and one GIL with the rest of the machine"
)


# --- everything ---------------------------------------------------------------------------


def main() -> None:
    started = time.monotonic()
    pg_url = os.environ.get("VANGNET_TEST_DATABASE_URL") or None
    if pg_url and not pg_url.startswith("postgresql"):
        pg_url = None
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        w = builder.world(tmp)
        dbs = [Databases("SQLite", w, tmp, None)]
        if pg_url:
            dbs.append(Databases("PostgreSQL", w, tmp, pg_url))
        baselines = bare_baselines() if wanted("slack") or wanted("national") else {}
        for db in dbs:
            print(f"--- {db.name}", flush=True)
            if wanted("import"):
                figures += work.import_figures(db)
            if wanted("sweep"):
                figures += work.sweep_figures(db)
            if wanted("import"):
                figures += work.import_into_figures(db, BIG)
            if wanted("round"):
                national = wanted("national") and not QUICK
                figures += work.delivery_round_figures(db, [BIG, NATIONAL] if national else [BIG])
            if wanted("digest"):
                figures += work.digest_figures(db, BIG)
            if wanted("slack"):
                figures += slack_figures(db, baselines)
            if wanted("national") and not QUICK:
                # national scale: 500,000 cases (PostgreSQL too when asked: its template
                # database takes a while to build once)
                figures += work.digest_figures(db, NATIONAL)
                figures += work.import_into_figures(db, NATIONAL)
                if baselines:
                    figures += slack_figures(db, baselines, [NATIONAL])
            if wanted("memory"):
                if not baselines_rss[1]:
                    bare_baselines()
                figures += memory_figures(db)
            if wanted("telegram") and db.name == "SQLite":
                figures += telegram_figures(db)
            if wanted("scan"):
                # a scan's 30 votes in 2 s, on Slack and Telegram, with and without figures
                figures += scan_votes.figures(db, BIG, rounds=1 if QUICK else scan_votes.ROUNDS)
            if wanted("teams") and db.name == "SQLite":
                figures += teams_latency.figures(db, BIG, ROUNDS)
            _flush(figures)
        if wanted("delivery"):
            figures += work.delivery_figures(dbs[0], 200 if QUICK else 1000)
    took = time.monotonic() - started
    print(plain(figures))
    if ONLY:
        write_only(figures, took)
    else:
        write(figures, pg_version(pg_url) if pg_url else None, took)


def _flush(figures: list[Figure]) -> None:
    print(plain(figures), flush=True)


def write(figures: list[Figure], pg: str | None, took: float) -> None:
    note = os.environ.get("BENCH_NOTE", "")
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (benchmarks/run.py); every baseline was measured in the same run."
        " Sizes: "
        + ", ".join(f"{n:,}" for n in SIZES)
        + " cases"
        + (" (BENCH_QUICK)" if QUICK else "")
        + f"; the run took {took / 60:.1f} minutes.",
        "",
        "Machine:",
        "",
        *machine(pg),
    ]
    if note:
        lines += ["", note]
    lines += ["", *markdown(figures), ""]
    lines += [
        "How each figure is measured: see the docstrings of benchmarks/slack_latency.py,"
        " benchmarks/telegram_latency.py, benchmarks/scan_votes.py and benchmarks/work.py.",
        "",
    ]
    (HERE / "results.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"written to {HERE / 'results.md'}")


def write_only(figures: list[Figure], took: float) -> None:
    """A run of BENCH_ONLY: its figures in a section of their own at the end of results.md
    (the one of an earlier run of the same subset replaced), the rest of the file kept."""
    title = "## Only " + ",".join(sorted(ONLY))
    path = HERE / "results.md"
    kept = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    start = kept.find("\n" + title + "\n")
    if start >= 0:
        end = kept.find("\n## ", start + 1)
        kept = kept[:start] + (kept[end:] if end >= 0 else "\n")
    note = os.environ.get("BENCH_NOTE", "")
    lines = [
        title,
        "",
        f"Written by `BENCH_ONLY={','.join(sorted(ONLY))} make bench`"
        + (" (BENCH_QUICK)" if QUICK else "")
        + f"; every baseline was measured in the same run, which took {took / 60:.1f} minutes.",
        "",
        *machine(None),
        *(["", note] if note else []),
        "",
        *markdown(figures),
        "",
        "How each figure is measured: see the docstring of "
        + (
            "benchmarks/telegram_latency.py."
            if ONLY == {"telegram"}  # noqa: SIM300
            else "benchmarks/scan_votes.py."
            if ONLY == {"scan"}  # noqa: SIM300
            else "benchmarks/slack_latency.py and benchmarks/work.py."
        ),
        "",
    ]
    path.write_text(kept.rstrip("\n") + "\n\n" + "\n".join(lines), encoding="utf-8")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
