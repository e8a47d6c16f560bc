"""Engine, sessions and bringing the schema up to date with Alembic.

Readers and writers on SQLite: WAL lets readers go on while one writer writes, so a unit of
work says whether it writes. A writer (`session_scope(engine)`) begins `BEGIN IMMEDIATE` and
holds the write lock from its first read, so a read-then-write cannot be overtaken; a reader
(`session_scope(engine, write=False)`) begins `BEGIN DEFERRED`, never takes the write lock and
never waits for a long write; a write inside it raises `ReaderWrote` at once instead of
trying to upgrade. `run_unit` is for work that only knows as it goes (a command): it runs as a
reader and, if it writes after all, again from the start as a writer. On PostgreSQL every
unit is the same (MVCC readers never wait for writers), and `run_unit` runs once.

Writers of one process queue for SQLite's write lock on a lock of their own (`_WriterGate`):
SQLite's busy handler polls, sleeping longer each time (up to 100 ms between tries), so
twenty writers at once waited hundreds of ms after the lock was free; a thread waiting on
the gate wakes as soon as the writer before it commits. Another process (`vangnet digest`
beside the server) still meets the busy handler.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do; it keeps two instances from migrating the same database at once.
_MIGRATION_LOCK_KEY = 7_426_318
# The execution option that marks a reader's connection (see the module's docstring).
_READER = "vangnet_reader"
# In a reader session's info: the writes to make once it has ended (`write_after_read`).
_AFTER_READ = "vangnet_after_read"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
SQLITE_BUSY_SECONDS = 30  # how long a writer waits for another's write lock
# Each SQLite connection keeps its own page cache (2 MiB by default), and up to one
# connection per worker thread is open at once: at 100,000 cases, after 20 requests at once,
# those caches made the server 176 MB instead of 141 MB. The database file stays in the
# operating system's cache, so a page this cache lacks costs a read call, not a disk read.
SQLITE_CACHE_KIB = 256
# A unit of work that writes a great deal at once (a school's file of thousands of leavers)
# gets a larger cache until its connection is given back (`large_write`): with 256 KiB its
# dirty index pages were written out and read back again and again, a sixth of the time of
# a 50,000-row import.
SQLITE_WRITE_CACHE_KIB = 16384
_LARGE_WRITE = "vangnet_large_write"  # in the pool record's info while the cache is larger

T = TypeVar("T")


class ReaderWrote(RuntimeError):
    """A unit of work begun as a reader tried to write (SQLite): run it as a writer."""


class _WriterGate:
    """One writer of this process at a time, in front of SQLite's own write lock (see the
    module's docstring). Held from BEGIN IMMEDIATE until the commit or rollback; a connection
    given back to the pool, closed or invalidated with the gate gives it up too. After
    waiting `SQLITE_BUSY_SECONDS` in vain a writer goes on to SQLite's lock, whose busy
    timeout then says what it always said."""

    _HELD = "vangnet_writer_gate"  # in the pool record's info while this connection holds it

    def __init__(self) -> None:
        self._lock = Lock()

    def enter(self, info: dict[Any, Any]) -> None:
        if self._lock.acquire(timeout=SQLITE_BUSY_SECONDS):
            info[self._HELD] = True

    def leave(self, info: dict[Any, Any]) -> None:
        if info.pop(self._HELD, False):
            self._lock.release()


def make_engine(url: str) -> Engine:
    """An engine that behaves alike on SQLite and PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
            # writers waiting for a long write hold a connection each: readers still get one
            pool_size=10,
            max_overflow=90,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # Let SQLAlchemy, not the driver, decide when a transaction begins (below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
            # WAL: a commit is durable once the log is synced at checkpoints; a power cut may
            # lose the last transactions but never corrupts the file (SQLite's advice for WAL)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cur.close()

        gate = _WriterGate()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            if conn.get_execution_options().get(_READER):
                conn.exec_driver_sql("BEGIN DEFERRED")  # reads from WAL, never waits
                return
            # A writer takes the write lock up front: a transaction that read a row and then
            # writes it cannot be overtaken by another writer in between, so conditional
            # updates (a claim) stay exact, and WAL never answers "busy snapshot" half-way.
            gate.enter(conn.info)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                gate.leave(conn.info)
                raise

        # (SQLAlchemy tells of a commit or rollback just before it runs it: a writer let
        # through then may meet SQLite's lock for that moment, and its busy handler's first
        # try, a millisecond later, finds it free)
        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _ended(conn):  # type: ignore[no-untyped-def]
            if not conn.invalidated:  # (an invalidated one gave the gate up: `_let_go`)
                gate.leave(conn.info)

        @event.listens_for(engine.pool, "checkin")
        @event.listens_for(engine.pool, "close")
        @event.listens_for(engine.pool, "invalidate")
        def _let_go(_dbapi_conn, record, *_exc):  # type: ignore[no-untyped-def]
            gate.leave(record.info)

        @event.listens_for(engine.pool, "checkin")
        def _small_cache_again(dbapi_conn, record):  # type: ignore[no-untyped-def]
            if record.info.pop(_LARGE_WRITE, False) and dbapi_conn is not None:
                cur = dbapi_conn.cursor()
                cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
                cur.close()

        _readers_do_not_write(engine)
        return engine
    # A connection for each worker thread of the server (`serving.WORKER_THREADS`) and a few
    # besides, kept once opened: when fewer were kept than threads ran, twenty requests at
    # once spent a tenth of their time opening and closing connections (PostgreSQL's
    # handshake, in the interpreter's one thread). Only as many are opened as are used.
    engine = create_engine(url, pool_size=16, max_overflow=16)
    _ping_when_idle(engine)
    _readers_do_not_write(engine)
    return engine


def _readers_do_not_write(engine: Engine) -> None:
    """A reader's unit that tries to write raises `ReaderWrote` before the statement runs."""

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse(conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if conn.get_execution_options().get(_READER) and _writes(statement):
            raise ReaderWrote(statement.split(None, 1)[0])


# A pooled connection that rested this long is tried before it is used (see below).
PING_AFTER_IDLE = 2.0  # seconds


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections that rested in the pool: one that
    was idle for more than `PING_AFTER_IDLE` seconds answers a ping before it is handed out;
    if it does not (the server restarted, a proxy cut it), the pool replaces it with a new
    connection and the request never sees it. A connection given back a moment ago is used
    at once: a ping on every checkout (`pool_pre_ping`) was a tenth of a busy server's work,
    two round trips for each of a request's three units. Should the server go away in
    that moment, the first statement on such a connection fails, SQLAlchemy then discards
    every pooled connection (its disconnect handling), and the next unit connects afresh."""

    @event.listens_for(engine.pool, "checkin")
    def _rested_from(_dbapi_conn, record):  # type: ignore[no-untyped-def]
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping_if_rested(dbapi_conn, record, _proxy):  # type: ignore[no-untyped-def]
        since = record.info.pop(_CHECKED_IN, None)
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE:
            return  # new, or back a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("a pooled connection did not answer") from exc


_CHECKED_IN = "vangnet_checked_in"  # in a pool record's info: when it came back (monotonic)


def large_write(session: Session) -> None:
    """Ready the session's unit of work for writing many rows at once: on SQLite a larger
    page cache for its connection (`SQLITE_WRITE_CACHE_KIB`), back to the usual size when
    the connection is given back to the pool; nothing to do on PostgreSQL."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_WRITE_CACHE_KIB}")
    connection.connection.info[_LARGE_WRITE] = True


def _writes(statement: str) -> bool:
    words = statement.lstrip().split(None, 1)
    return bool(words) and words[0].upper() in _WRITES


def reader(engine: Engine) -> Engine:
    """The engine for readers. On SQLite their transactions begin DEFERRED (see above). On
    PostgreSQL they run without a transaction of their own (autocommit): at READ COMMITTED
    each statement sees what was committed when it began either way, and a reader's unit
    saves the round trips of its BEGIN and COMMIT. A reader that writes raises `ReaderWrote`
    on both."""
    found: Engine | None = engine.__dict__.get(_READER_ENGINE)
    if found is None:  # made once per engine, kept on it (two threads may both make one)
        options: dict[str, Any] = {_READER: True}
        if not _is_sqlite(engine):
            options["isolation_level"] = "AUTOCOMMIT"
        found = engine.execution_options(**options)
        setattr(engine, _READER_ENGINE, found)
    return found


_READER_ENGINE = "_vangnet_reader_engine"  # the attribute of an engine that keeps its reader


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every pending migration. Safe to call from several instances at once."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        command.upgrade(alembic_config(conn), "head")


def hold_start_lock(session: Session) -> None:
    """Hold the migrations' lock until `session`'s unit of work ends (PostgreSQL): instances
    starting together on a new database seed the directory one after the other, so the
    second finds it seeded instead of inserting the same rows. (SQLite's writers are one at
    a time already.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit when the block ends normally, roll back otherwise.

    `write=False` for a unit that only reads: on SQLite it never waits for a writer (and may
    not write: `ReaderWrote`)."""
    with Session(engine if write else reader(engine), expire_on_commit=False) as session:
        if not write and _is_sqlite(engine):
            session.info[_READER] = True
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        later = session.info.pop(_AFTER_READ, None)
    if later:  # (a reader's, on SQLite: see `write_after_read`)
        _after_reads(engine).write(later)


class _AfterReads:
    """The writes readers left (`write_after_read`), made together: readers that end while
    one of them is writing wait for it (they would wait at the writer gate anyway), then the
    first of them writes what all of them left in one unit of work. Twenty requests at once
    take the write lock a few times instead of twenty. Each reader returns once its own
    writes are committed; if the unit fails, each of them raises."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._turn = Lock()  # one writing at a time
        self._guard = Lock()  # over `_waiting`
        self._waiting: list[_Left] = []

    def write(self, writes: list[Callable[[Session], object]]) -> None:
        mine = _Left(writes)
        with self._guard:
            self._waiting.append(mine)
        with self._turn:
            if not mine.done:  # nobody wrote it while this reader waited: write all waiting
                with self._guard:
                    batch, self._waiting = self._waiting, []
                try:
                    with session_scope(self.engine) as writer:
                        for left in batch:
                            for write_now in left.writes:
                                write_now(writer)
                except BaseException as exc:
                    for left in batch:
                        left.failed = exc
                    raise
                finally:
                    for left in batch:
                        left.done = True
        if mine.failed is not None:
            raise RuntimeError("the writes after a read failed") from mine.failed


@dataclass
class _Left:
    writes: list[Callable[[Session], object]]
    done: bool = False
    failed: BaseException | None = None


_AFTER_READS: WeakKeyDictionary[Engine, _AfterReads] = WeakKeyDictionary()
_AFTER_READS_LOCK = Lock()


def _after_reads(engine: Engine) -> _AfterReads:
    with _AFTER_READS_LOCK:
        found = _AFTER_READS.get(engine)
        if found is None:
            found = _AFTER_READS[engine] = _AfterReads(engine)
        return found


def write_after_read(session: Session, write: Callable[[Session], object]) -> None:
    """A write that belongs to what a unit of work read, and that nothing it reads depends
    on (an audit row of what it showed): made in `session` at once, except in a reader's
    unit on SQLite. There it is kept, and made in a short writer's unit as soon as the
    reader's has ended (with those other readers left at that moment: `_AfterReads`),
    before `session_scope` (or `run_unit`) gives the result back:
    the read does not turn into a writer's and queue behind the other writers, yet nothing
    it read reaches anyone unless the write was made. (A reader's unit that fails makes
    none of them.)"""
    if session.info.get(_READER):
        session.info.setdefault(_AFTER_READ, []).append(write)
    else:
        write(session)


def run_unit(engine: Engine, work: Callable[[Session], T]) -> T:
    """`work(session)` as one unit of work that takes the write lock only if it writes.

    On SQLite it runs first as a reader; if it writes, that attempt is rolled back and it runs
    again from the start as a writer (so it must have no effects outside the database before
    its first write). Elsewhere it runs once."""
    if _is_sqlite(engine):
        try:
            with session_scope(engine, write=False) as session:
                return work(session)
        except ReaderWrote:
            pass
    with session_scope(engine) as session:
        return work(session)
