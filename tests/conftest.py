"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when
VANGNET_TEST_DATABASE_URL is set), the demo region, a core, and scenario helpers."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import Engine, text

from bot.core import clock
from bot.core.app import Core
from bot.core.directory import sync_region
from bot.region import Region
from bot.region_file import load_demo_region
from bot.store import crypto
from bot.store.db import make_engine, session_scope, upgrade

PG_URL = os.environ.get("VANGNET_TEST_DATABASE_URL")
# The key of the personal fields in every test database (test_encryption.py uses others).
TEST_KEY = b"dmFuZ25ldC10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDA="
crypto.use_keys([TEST_KEY])
# A Monday in term time; the demo region's handover window is 13 weeks.
FROZEN_AT = "2026-11-23 09:00:00+00:00"


def pytest_report_header() -> str:
    return f"vangnet test database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to start each test from: a SQLite file, or a PostgreSQL schema."""
    if PG_URL:
        schema = f"vt_{uuid.uuid4().hex[:10]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        yield str(path)


@pytest.fixture(autouse=True)
def test_key() -> Iterator[bytes]:
    """Every test starts with the test key, whatever keys an earlier one set up."""
    crypto.use_keys([TEST_KEY])
    yield TEST_KEY
    crypto.use_keys([TEST_KEY])


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        engine = make_engine(database_template)
        with engine.begin() as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
                if r[0] != "alembic_version"
            ]
            quoted = ", ".join(f'"{t}"' for t in tables)
            # a session left open by a test would make this wait for ever: fail loudly instead
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        engine.dispose()
        yield database_template
    else:
        path = tmp_path / "vangnet.db"
        shutil.copy(database_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def region() -> Region:
    return load_demo_region()


@pytest.fixture(autouse=True)
def clock_not_moved() -> Iterator[None]:
    """The terminal demo's /clock moves the core's clock; every test starts with real time."""
    clock.set_ahead(timedelta(0))
    yield
    clock.set_ahead(timedelta(0))


@pytest.fixture
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(FROZEN_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def core(engine: Engine, region: Region, frozen: time_machine.Coordinates) -> Core:
    with session_scope(engine) as session:
        sync_region(session, region)
    # English, so that assertions read the source strings; Dutch is tested in test_i18n.
    return Core(engine=engine, region=region, default_language="en")
