"""Personal data encrypted at rest (issue 15): what the database holds without the key, key
rotation, the key at start, the migration, and the privacy report."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import Engine, insert, text
from sqlmodel import SQLModel, select
from typer.testing import CliRunner

from bot.cli.app import app
from bot.core.app import Core
from bot.core.context import system_person
from bot.core.directory import sync_region
from bot.core.intake.csv_import import import_csv
from bot.core.messaging.outbox import reply_of
from bot.core.privacy import erase_case, export_case
from bot.core.privacy_report import FIELDS
from bot.handlers.telegram import inbox
from bot.region import Region
from bot.store import crypto
from bot.store.db import alembic_config, make_engine, session_scope, upgrade
from bot.store.models import Case, Conversation, OutboxMessage
from bot.store.rotation import rotate
from bot.store.types import encrypted_columns
from tests.conftest import PG_URL, TEST_KEY
from tests.factories import case, make_leaver, press, say, text_of

SECRETS = (
    "Jesse Voorbeeld",
    "06-12345678",
    "hovenier",
    "Bakkerij Jansen",
    "verhuist naar Jesse",
    "Jeugdteam Jesse",
)
NEW_KEY = Fernet.generate_key()


def personal(**extra: str) -> dict[str, str]:
    return {
        "consent": "given",
        "name": "Jesse Voorbeeld",
        "contact": "06-12345678",
        "notes": "wil hovenier worden",
        **extra,
    }


def fill_every_personal_field(core: Core) -> list[str]:
    """Cases, a form in progress and queued messages holding a young person's details."""
    due = make_leaver(core, **personal(early_leaver="yes", expected_exit="2026-11"))
    with session_scope(core.engine) as session:  # where the leaver went, as /placed stores it
        row = session.get_one(Case, due.id)
        row.placement_org = "Bakkerij Jansen"
        session.add(row)
    withdrawn = make_leaver(core, **personal())
    say(core, "sara", f"/withdraw {withdrawn.ref} Jesse Voorbeeld verhuist naar Jesse")
    press(core, "sara", "form:confirm")
    pending = make_leaver(core, **personal())
    say(core, "sara", f"/withdraw {pending.ref}")
    say(core, "sara", "verhuist naar Jesse, Deventer")  # the answer waits for the confirmation
    elsewhere = make_leaver(
        core, **personal(home_municipality="Amsterdam", early_leaver="yes", expected_exit="2026-11")
    )  # handed over to the region where the leaver lives, the contact there noted
    say(core, "anna", f"/transfer {elsewhere.ref} outside Jeugdteam Jesse, 020-1234567")
    # a Telegram message recorded and not handled yet (as a kill -9 right after leaves it)
    typed = {"message_id": 7, "chat": {"id": 1003, "type": "private"}, "text": "/find Jesse"}
    inbox.record(core.engine, [{"update_id": 900_000_001, "message": typed}])
    return [due.ref, withdrawn.ref, pending.ref, elsewhere.ref]


def raw(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_a_copy_of_the_database_without_the_key_shows_no_personal_data(
    core: Core, engine: Engine
) -> None:
    fill_every_personal_field(core)
    encrypted = encrypted_columns(SQLModel.metadata)
    assert ("cases", "name") in encrypted and ("outbox", "payload") in encrypted
    for table, column in encrypted:  # every personal column, as the models mark them
        values = [v for (v,) in raw(engine, f"SELECT {column} FROM {table}") if v is not None]
        assert values, f"the scenario stores nothing in {table}.{column}: extend it"
        assert all(isinstance(v, str) and v.startswith("gAAAAA") for v in values), (table, column)
    for table in SQLModel.metadata.sorted_tables:  # and nowhere else either
        dump = repr(raw(engine, f"SELECT * FROM {table.name}"))
        assert not [s for s in SECRETS if s in dump], table.name
    # with the key, everything reads as it was typed
    assert case(core, fill_every_personal_field(core)[0]).name == "Jesse Voorbeeld"


def test_bulk_inserts_through_the_table_are_encrypted_too(core: Core, engine: Engine) -> None:
    """SQLAlchemy Core inserts of many rows at once (executemany) go through the column type."""
    now = datetime(2026, 11, 23, tzinfo=UTC)
    rows = [
        {
            "ref": f"BULK{i}",
            "school_id": "brug",
            "registered_by": "sara",
            "student_ref": f"B-{i}",
            "name": f"Jesse Voorbeeld {i}",
            "home_municipality_code": "GM0193",
            "responsible_municipality_code": "GM0193",
            "programme": "pro",
            "expected_exit": now.date(),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(3)
    ]
    with session_scope(engine) as session:
        session.execute(insert(Case.__table__), rows)  # type: ignore[attr-defined]
    stored = raw(engine, "SELECT name FROM cases WHERE ref LIKE 'BULK%' ORDER BY ref")
    assert all(str(v).startswith("gAAAAA") for (v,) in stored) and len(stored) == 3
    assert case(core, "BULK2").name == "Jesse Voorbeeld 2"


def test_a_school_file_of_leavers_is_stored_encrypted(core: Core, engine: Engine) -> None:
    """A file is written many rows at once, the brokers' cards of those due at once too:
    every personal detail in it is as encrypted as when a leaver is registered in the chat."""
    header = "student_ref,name,home_municipality,programme,expected_exit,early_leaver,consent,notes"
    lines = [
        f"ENC-{i},Jesse Voorbeeld {i},Zwolle,pro,{'2026-11' if i % 2 else '2027-09'},"
        f"{'yes' if i % 2 else 'no'},given,wil hovenier worden {i}"
        for i in range(6)
    ]
    with session_scope(engine) as session:
        ctx = core.ctx(session, system_person(), transport="cli", private=True)
        result = import_csv(ctx, school_id="brug", data="\n".join([header, *lines]).encode())
    assert result.ok and result.added == 6, result.problems

    stored = raw(engine, "SELECT name, notes FROM cases WHERE student_ref LIKE 'ENC-%'")
    assert len(stored) == 6
    assert all(str(v).startswith("gAAAAA") for row in stored for v in row)
    cards = raw(engine, "SELECT payload FROM outbox WHERE kind = 'due'")
    assert cards and all(str(v).startswith("gAAAAA") for (v,) in cards)
    for table in SQLModel.metadata.sorted_tables:
        dump = repr(raw(engine, f"SELECT * FROM {table.name}"))
        assert "Jesse" not in dump and "hovenier" not in dump, table.name
    with session_scope(engine) as session:
        found = session.exec(select(Case).where(Case.student_ref == "ENC-3")).one()
        card = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.case_ref == found.ref, OutboxMessage.kind == "due"
            )
        ).first()
    assert (found.name, found.notes) == ("Jesse Voorbeeld 3", "wil hovenier worden 3")
    assert found.state == "due" and card is not None
    assert "Jesse Voorbeeld 3" in text_of(reply_of(card))


def test_rotation_to_a_new_key_then_the_old_one_dropped(core: Core, engine: Engine) -> None:
    refs = fill_every_personal_field(core)
    crypto.use_keys([NEW_KEY, TEST_KEY])
    done = rotate(engine, now=datetime(2026, 11, 23, 9, tzinfo=UTC), batch=2)
    assert done.changed["cases"] >= 9 and done.changed["outbox"] > 0
    crypto.use_keys([NEW_KEY])  # the old key is gone
    crypto.check_key(engine)
    assert case(core, refs[0]).contact == "06-12345678"
    with session_scope(engine) as session:
        assert session.exec(select(Conversation)).one().answers
    crypto.use_keys([TEST_KEY])  # the old key alone opens nothing any more
    with pytest.raises(crypto.WrongKey):
        crypto.check_key(engine)


def test_an_interrupted_rotation_goes_on_where_it_stopped(core: Core, engine: Engine) -> None:
    refs = fill_every_personal_field(core)
    with engine.begin() as conn:  # as every start does (the test databases are emptied)
        crypto.ensure_canary(conn)
    crypto.use_keys([NEW_KEY, TEST_KEY])

    def stop_after_first(table: str, rows: int) -> None:
        if table == "cases":  # the first batch of cases is done: stop there
            raise KeyboardInterrupt

    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with pytest.raises(KeyboardInterrupt):
        rotate(engine, now=now, batch=1, after_batch=stop_after_first)
    names = [v for (v,) in raw(engine, "SELECT name FROM cases WHERE name IS NOT NULL")]
    on_new = [crypto.on_newest_key(str(v)) for v in names]
    assert any(on_new) and not all(on_new)  # the first batch was kept, the rest not done
    crypto.use_keys([NEW_KEY])  # the old key dropped too early: refused at start, not half-read
    with pytest.raises(crypto.WrongKey):
        crypto.check_key(engine)
    crypto.use_keys([NEW_KEY, TEST_KEY])
    again = rotate(engine, now=now, batch=1)
    assert again.kept > 0  # what the first run did is not done twice
    crypto.use_keys([NEW_KEY])
    assert case(core, refs[1]).closed_reason == "Jesse Voorbeeld verhuist naar Jesse"
    assert rotate(engine, now=now).total == 0  # nothing left on the old key


def test_export_and_erase_still_complete(core: Core, engine: Engine) -> None:
    ref = fill_every_personal_field(core)[0]
    with session_scope(engine) as session:
        ctx = core.ctx(session, system_person(), transport="cli", private=True)
        exported = export_case(ctx, ref)
    assert exported["name"] == "Jesse Voorbeeld" and exported["placement_org"] == "Bakkerij Jansen"
    assert any("Jesse" in json.dumps(m["content"]) for m in exported["messages"])
    with session_scope(engine) as session:
        erase_case(core.ctx(session, system_person(), transport="cli", private=True), ref)
    with session_scope(engine) as session:
        again = export_case(core.ctx(session, system_person(), transport="cli", private=True), ref)
    assert "Jesse" not in json.dumps(again) and again["audit_trail"]
    assert raw(engine, f"SELECT name, contact, notes FROM cases WHERE ref = '{ref}'") == [
        (None, None, None)
    ]


# --- the key at start --------------------------------------------------------------------------


def vangnet(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "VANGNET_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input="",
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, **env},
        timeout=120,
        check=False,
    )


def test_a_platform_deployment_without_a_key_is_refused_and_told_how_to_make_one(
    tmp_path: Path,
) -> None:
    for platform in (
        {"TELEGRAM_BOT_TOKEN": "123:abc"},
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"},
    ):
        done = vangnet(
            "run", env={**platform, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, cwd=tmp_path
        )
        assert done.returncode == 1
        assert "VANGNET_SECRET_KEY is niet ingesteld" in done.stderr  # the demo region: Dutch
        assert "vangnet keys generate" in done.stderr
        assert not (tmp_path / "x.db").exists() and not (tmp_path / "x.key").exists()
    made = vangnet("keys", "generate", env={}, cwd=tmp_path)
    assert made.returncode == 0 and Fernet(made.stdout.strip().encode())


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A clean environment in an empty directory, on a fresh SQLite file, no key. The demo
    region speaks Dutch."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "TELEGRAM_", "VANGNET_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/v.db")
    return CliRunner()


def test_the_terminal_on_a_fresh_machine_makes_its_own_key_file(
    cli: CliRunner, tmp_path: Path
) -> None:
    first = cli.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    key_file = tmp_path / "v.key"
    assert "een nieuwe sleutel voor deze lokale database" in first.stderr
    assert str(key_file) in first.stderr
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    assert key not in first.output
    again = cli.invoke(app, ["export", "QQQQ"])  # the same key is used: no new file, no notice
    assert "sleutel" not in again.stderr and key_file.read_text().strip() == key
    assert key not in (tmp_path / "v.db").read_bytes().decode("latin-1")


def test_a_wrong_or_broken_key_is_refused_at_start(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    monkeypatch.setenv("VANGNET_SECRET_KEY", Fernet.generate_key().decode())
    wrong = cli.invoke(app, ["export", "QQQQ"])
    assert wrong.exit_code == 1
    assert "Met VANGNET_SECRET_KEY gaat deze database niet open" in wrong.stderr
    monkeypatch.setenv("VANGNET_SECRET_KEY", "not-a-key")
    broken = cli.invoke(app, ["db", "upgrade"])
    assert broken.exit_code == 1
    assert "Sleutel 1 in VANGNET_SECRET_KEY is geen Fernet-sleutel" in broken.stderr


def test_keys_rotate_on_the_command_line_and_the_report_says_when(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.invoke(app, ["export", "QQQQ"]).exit_code == 2  # loads the demo leavers
    old = (tmp_path / "v.key").read_text().strip()
    assert "nog nooit vervangen" in cli.invoke(app, ["privacy", "report"]).stdout
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("VANGNET_SECRET_KEY", f"{new},{old}")
    done = cli.invoke(app, ["keys", "rotate", "--batch", "3"])
    assert done.exit_code == 0, done.output
    assert "De oude sleutel mag nu uit VANGNET_SECRET_KEY" in done.stdout
    monkeypatch.setenv("VANGNET_SECRET_KEY", new)
    report = cli.invoke(app, ["privacy", "report", "--language", "en"])
    assert report.exit_code == 0, report.output
    assert "The key was last rotated on" in report.stdout


# --- the privacy report ------------------------------------------------------------------------


def test_the_privacy_report_for_the_dpia(cli: CliRunner) -> None:
    report = cli.invoke(app, ["privacy", "report", "--language", "en"])
    assert report.exit_code == 0, report.output
    out = report.stdout
    for table, column in encrypted_columns(SQLModel.metadata):
        assert f"{table}.{column}" in out
    assert "Retention" in out and "24 months" in out
    # the demo region: 8 leavers, 5 with consent and details, none due for erasure
    assert "Cases now: 8; with personal data: 5" in out and "Due for erasure now: 0" in out
    # by the scope rule: the coordinator sees all five, a school contact her school's
    assert "Anna de Vries: 5 cases" in out and "Sara Smit: 2 cases" in out
    dutch = cli.invoke(app, ["privacy", "report"]).stdout  # the region's language
    assert "Bewaartermijn" in dutch and "Anna de Vries: 5 casussen" in dutch


def test_every_encrypted_column_is_described_in_the_report() -> None:
    assert set(FIELDS) == set(encrypted_columns(SQLModel.metadata))


# --- the migration -----------------------------------------------------------------------------


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of its own (a SQLite file, or a PostgreSQL schema), migrated to the newest."""
    if PG_URL:
        schema = f"vm_{uuid.uuid4().hex[:10]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        engine = make_engine(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    else:
        engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    yield engine
    engine.dispose()
    if PG_URL:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def migrate(engine: Engine, how: str, revision: str) -> None:
    with engine.begin() as conn:
        getattr(command, how)(alembic_config(conn), revision)


def test_the_migration_encrypts_in_place_and_may_run_twice(
    fresh_engine: Engine, region: Region, frozen: time_machine.Coordinates
) -> None:
    core = Core(engine=fresh_engine, region=region, default_language="en")
    with session_scope(fresh_engine) as session:
        sync_region(session, region)
    ref = make_leaver(core, **personal(early_leaver="yes", expected_exit="2026-11")).ref
    migrate(fresh_engine, "downgrade", "0009")  # as it was before: plain text
    assert raw(fresh_engine, f"SELECT name FROM cases WHERE ref = '{ref}'") == [
        ("Jesse Voorbeeld",)
    ]
    with fresh_engine.begin() as conn:  # one value encrypted already, as an interrupted run left it
        conn.execute(
            text("UPDATE cases SET notes = :n WHERE ref = :r"),
            {"n": crypto.encrypt("wil hovenier worden"), "r": ref},
        )
    migrate(fresh_engine, "upgrade", "head")
    migrate(fresh_engine, "stamp", "0009")  # and once more over encrypted data
    migrate(fresh_engine, "upgrade", "0010")
    migrate(fresh_engine, "stamp", "head")
    for name, notes, contact in raw(
        fresh_engine, f"SELECT name, notes, contact FROM cases WHERE ref = '{ref}'"
    ):
        assert all(str(v).startswith("gAAAAA") for v in (name, notes, contact))
    stored = case(core, ref)
    assert (stored.name, stored.notes, stored.contact) == (
        "Jesse Voorbeeld",
        "wil hovenier worden",
        "06-12345678",
    )
    payloads = [v for (v,) in raw(fresh_engine, "SELECT payload FROM outbox")]
    assert payloads and all(str(v).startswith("gAAAAA") for v in payloads)
    crypto.check_key(fresh_engine)


def test_a_database_whose_key_file_is_missing_is_refused_and_nothing_is_written(
    cli: CliRunner, tmp_path: Path
) -> None:
    """Issue 24 item 7: no new (wrong) key file is made beside data it cannot open."""
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    key_file, database = tmp_path / "v.key", tmp_path / "v.db"
    key_file.unlink()
    before = contents(database)
    refused = cli.invoke(app, ["export", "QQQQ"])
    assert refused.exit_code == 1
    assert f"Het sleutelbestand {key_file} ontbreekt" in refused.stderr
    assert not key_file.exists()
    assert contents(database) == before


def contents(database: Path) -> list[str]:
    """What a SQLite database holds, as SQL: the same whether or not its write-ahead log was
    folded into the file since (closing the last connection does that, a read does not write)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        return list(conn.iterdump())


def test_a_key_file_others_can_read_gets_a_warning(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    key_file = tmp_path / "v.key"
    key_file.chmod(0o644)
    warned = cli.invoke(app, ["export", "QQQQ"])
    assert f"het sleutelbestand {key_file} kan ook door anderen" in warned.stderr
    key_file.chmod(0o600)
    assert "kan ook door anderen" not in cli.invoke(app, ["export", "QQQQ"]).stderr
