"""Several instances may start at the same moment on a new database: the migrations and the
directory seeding run one instance after the other, and every instance starts."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.cli_support import cli_translator
from bot.config import Settings
from bot.core.app import Core
from bot.runtime import build_core
from bot.store.db import make_engine, session_scope
from bot.store.models import Municipality, Person
from tests.conftest import PG_URL, TEST_KEY
from tests.region.test_region_apply import REGION

INSTANCES = 4


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """A database nobody has migrated yet: a new PostgreSQL schema, or a new SQLite file."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    schema = f"vs_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_instances_starting_together_on_a_new_database_all_start(
    fresh_url: str, tmp_path: Path
) -> None:
    region_file = tmp_path / "regio.yaml"
    region_file.write_text(REGION, encoding="utf-8")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=fresh_url,
        vangnet_region_file=region_file,
        vangnet_secret_key=TEST_KEY.decode(),
    )
    together = threading.Barrier(INSTANCES)
    started: list[Core] = []
    failed: list[BaseException] = []

    def instance() -> None:
        together.wait()
        try:
            started.append(build_core(settings, cli_translator(settings), lambda _n: None))
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=instance) for _ in range(INSTANCES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert [type(e).__name__ + ": " + str(e)[:200] for e in failed] == []
        assert len(started) == INSTANCES
        with session_scope(started[0].engine) as session:
            assert len(session.exec(select(Municipality)).all()) == 2
            assert len(session.exec(select(Person)).all()) == 3
    finally:
        for core in started:
            core.engine.dispose()
