"""The region file seeds a new installation; after that the database is the truth: `/admin`
changes survive a restart, and `vangnet region apply FILE [--dry-run]` applies a file on
purpose, showing what changes first."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.__main__ import app
from bot.cli_support import cli_translator
from bot.config import Settings
from bot.core.app import Core
from bot.runtime import build_core
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Person, School
from tests.cli.test_cli import vangnet
from tests.conftest import TEST_KEY
from tests.factories import one, press, say

REGION = """\
region: Testregio
language: en
municipalities:
  - {code: GM0193, name: Zwolle}
  - {code: GM0166, name: Kampen}
schools:
  - {id: brug, name: Praktijkschool De Brug, type: pro, municipality: Zwolle}
people:
  - {id: anna, name: Anna de Vries, roles: [coordinator], slack: U01ANNA}
  - {id: bram, name: Bram Bakker, roles: [broker], municipality: Kampen, slack: U01BRAM}
  - {id: sara, name: Sara Smit, roles: [school_contact], school: brug, telegram: 1003}
"""


@pytest.fixture
def region_file(tmp_path: Path) -> Path:
    path = tmp_path / "regio.yaml"
    path.write_text(REGION, encoding="utf-8")
    return path


def start(database_url: str, region_file: Path) -> Core:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        vangnet_region_file=region_file,
        vangnet_secret_key=TEST_KEY.decode(),
    )
    return build_core(settings, cli_translator(settings), lambda _notice: None)


def people(core: Core) -> dict[str, Person]:
    with session_scope(core.engine) as session:
        return {p.id: p for p in session.exec(select(Person)).all()}


def test_an_empty_database_is_seeded_and_admin_changes_survive_a_restart(
    database_url: str, region_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    core = start(database_url, region_file)
    assert set(people(core)) == {"anna", "bram", "sara"}  # seeded from the file
    say(core, "anna", "/admin add")
    for answer in ("Jan Jansen", "broker", "Zwolle", "nl", "U01JAN"):
        say(core, "anna", answer)
    one(press(core, "anna", "form:confirm"))
    say(core, "anna", "/admin change bram")
    press(core, "anna", "form:edit:municipality")
    say(core, "anna", "Zwolle")
    one(press(core, "anna", "form:confirm"))
    say(core, "anna", "/admin deactivate sara")
    core.engine.dispose()

    with caplog.at_level(logging.WARNING):
        again = start(database_url, region_file)
    after = people(again)
    assert after["jan"].active and after["jan"].slack_id == "U01JAN"
    assert after["bram"].municipality_code == "GM0193"
    assert not after["sara"].active
    assert caplog.records == []  # said by `vangnet run` only, not logged by every command
    again.engine.dispose()


def test_vangnet_run_says_in_one_line_what_applying_the_file_would_undo(
    database_url: str, region_file: Path, tmp_path: Path
) -> None:
    """In the region's language, by name, once at `vangnet run`; no other command says it."""
    core = start(database_url, region_file)
    say(core, "anna", "/admin add")
    for answer in ("Karin de Boer", "broker", "Zwolle", "nl", "U01KAR"):
        say(core, "anna", answer)
    one(press(core, "anna", "form:confirm"))
    say(core, "anna", "/admin change bram")
    press(core, "anna", "form:edit:municipality")
    say(core, "anna", "Zwolle")
    one(press(core, "anna", "form:confirm"))
    core.engine.dispose()
    region_file.write_text(REGION.replace("language: en", "language: nl"), encoding="utf-8")
    env = {
        "DATABASE_URL": database_url,
        "VANGNET_SECRET_KEY": TEST_KEY.decode(),
        "VANGNET_REGION_FILE": str(region_file),
    }
    run = vangnet("run", env=env, cwd=tmp_path, stdin="/quit\n")
    assert run.returncode == 0, run.stderr
    (line,) = [x for x in run.stderr.splitlines() if "regiobestand" in x]
    assert line == (
        "Het regiobestand wijkt af van het adresboek, dat blijft zoals het is: als je het "
        "bestand toepast (vangnet region apply), gaat de adresboekwijziging van Bram Bakker "
        "verloren en wordt Karin de Boer gedeactiveerd."
    )
    digest = vangnet("digest", env=env, cwd=tmp_path)
    assert digest.returncode == 0, digest.stderr
    assert "regiobestand" not in digest.stderr and "region file" not in digest.stderr


def test_region_apply_dry_run_shows_and_apply_writes_and_audits(
    database_url: str, region_file: Path
) -> None:
    core = start(database_url, region_file)
    say(core, "anna", "/admin deactivate sara")
    core.engine.dispose()
    region_file.write_text(
        REGION.replace("Praktijkschool De Brug", "De Brug").replace(
            "  - {id: bram, name: Bram Bakker, roles: [broker], municipality: Kampen, "
            "slack: U01BRAM}\n",
            "",
        )
        + "  - {id: kees, name: Kees Koster, roles: [broker], municipality: Zwolle}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "VANGNET_SECRET_KEY": TEST_KEY.decode()}
    dry = runner.invoke(app, ["region", "apply", str(region_file), "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    lines = dry.output.splitlines()
    assert "added: person kees" in lines
    assert "changed: school brug (name)" in lines
    assert "changed: person sara (active, telegram_id)" in lines  # back, as in the file
    assert "deactivated: person bram" in lines
    assert lines[-1] == "Nothing was changed (--dry-run). Run again without --dry-run to apply."
    core = start(database_url, region_file)
    before = people(core)
    assert "kees" not in before and before["bram"].active and not before["sara"].active

    done = runner.invoke(app, ["region", "apply", str(region_file)], env=env)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == "The region file is applied."
    after = people(core)
    assert after["kees"].active and not after["bram"].active and after["sara"].active
    with session_scope(core.engine) as session:
        brug = session.get(School, "brug")
        assert brug is not None and brug.name == "De Brug"
        events = session.exec(select(AuditEvent).where(AuditEvent.actor_id == "system")).all()
        assert {(e.action, e.detail["id"]) for e in events} == {
            ("person_added", "kees"),
            ("school_changed", "brug"),
            ("person_changed", "sara"),
            ("person_deactivated", "bram"),
        }
    again = runner.invoke(app, ["region", "apply", str(region_file), "--dry-run"], env=env)
    assert again.output.strip() == "The directory already matches this region file."
    core.engine.dispose()


def test_region_apply_refuses_a_bad_file_and_changes_nothing(
    database_url: str, region_file: Path, tmp_path: Path
) -> None:
    core = start(database_url, region_file)
    bad = tmp_path / "bad.yaml"
    bad.write_text(REGION + "  - {id: kees, name: Kees, roles: [broker]}\n", encoding="utf-8")
    done = CliRunner().invoke(
        app,
        ["region", "apply", str(bad)],
        env={"DATABASE_URL": database_url, "VANGNET_SECRET_KEY": TEST_KEY.decode()},
    )
    assert done.exit_code == 2
    assert "bad.yaml:12" in done.output and "needs a municipality" in done.output
    assert "kees" not in people(core)
    core.engine.dispose()
