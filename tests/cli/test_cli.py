"""The command line: a bad region file stops the start; migrations run on their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError
from sqlmodel import select
from typer.testing import CliRunner

from bot.__main__ import app
from bot.store.db import make_engine, session_scope
from bot.store.models import Case
from tests.conftest import TEST_KEY


def vangnet(
    *args: str, env: dict[str, str], cwd: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "VANGNET_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, **env},
        timeout=120,
        check=False,
    )


def test_a_bad_region_file_is_refused_with_file_line_and_reason(tmp_path: Path) -> None:
    region = tmp_path / "regio.yaml"
    region.write_text(
        "region: Test\n"
        "municipalities:\n"
        "  - {code: GM0193, name: Zwolle}\n"
        "people:\n"
        "  - {id: bram, name: Bram Bakker, roles: [broker]}\n",
        encoding="utf-8",
    )
    done = vangnet(
        "run",
        env={"VANGNET_REGION_FILE": str(region), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "regio.yaml:5" in done.stderr and "bram" in done.stderr and "municipality" in done.stderr


def test_a_real_region_gets_no_demo_leavers(tmp_path: Path) -> None:
    region = tmp_path / "regio.yaml"
    region.write_text(
        "region: Test\n"
        "language: en\n"
        "municipalities:\n"
        "  - {code: GM0193, name: Zwolle}\n"
        "schools:\n"
        "  - {id: brug, name: De Brug, type: pro, municipality: Zwolle}\n"
        "people:\n"
        "  - {id: anna, name: Anna, roles: [coordinator]}\n",
        encoding="utf-8",
    )
    done = vangnet(
        "run",
        env={"VANGNET_REGION_FILE": str(region), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
        cwd=tmp_path,
        stdin="/as anna\n/leavers\n",
    )
    assert done.returncode == 0, done.stderr
    assert "Nothing here." in done.stdout


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    done = vangnet("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    tables = set(inspect(make_engine(url)).get_table_names())
    assert {"cases", "person", "audit_event", "conversation", "outbox"} <= tables


def test_a_telegram_webhook_without_its_secret_is_refused_at_start(tmp_path: Path) -> None:
    done = vangnet(
        "run",
        env={
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_WEBHOOK_URL": "https://example.org/telegram/webhook",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        },
        cwd=tmp_path,
    )
    assert done.returncode != 0 and "TELEGRAM_WEBHOOK_SECRET" in done.stderr


def test_slack_in_http_mode_needs_its_signing_secret(tmp_path: Path) -> None:
    done = vangnet(
        "run",
        env={"SLACK_BOT_TOKEN": "xoxb-test", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
        cwd=tmp_path,
    )
    assert done.returncode != 0 and "SLACK_SIGNING_SECRET" in done.stderr


# --- in-process, with typer's CliRunner -------------------------------------------------------

REGION = (
    "region: Regio Proef\n"
    "{language}"
    "municipalities:\n"
    "  - {{code: GM0193, name: Zwolle}}\n"
    "schools:\n"
    "  - {{id: brug, name: De Brug, type: pro, municipality: Zwolle}}\n"
    "people:\n"
    "  - {{id: anna, name: Anna, roles: [coordinator]}}\n"
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A clean environment in an empty directory, on a fresh SQLite file."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "TELEGRAM_", "VANGNET_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/v.db")
    monkeypatch.setenv("VANGNET_SECRET_KEY", TEST_KEY.decode())
    return CliRunner()


def region_file(tmp_path: Path, language: str | None = None) -> Path:
    path = tmp_path / "regio.yaml"
    path.write_text(
        REGION.format(language=f"language: {language}\n" if language else ""), encoding="utf-8"
    )
    return path


def test_an_unreachable_database_is_one_line_and_status_1(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/v.db")
    done = cli.invoke(app, ["db", "upgrade"])
    assert done.exit_code == 1
    assert done.stderr.strip().count("\n") == 0  # one line, no traceback
    assert "database" in done.stderr and "unable to open database file" in done.stderr
    debugged = cli.invoke(app, ["--debug", "db", "upgrade"])
    assert isinstance(debugged.exception, OperationalError)  # the whole traceback


def test_a_chart_to_an_unwritable_path_is_one_line_and_status_1(
    cli: CliRunner, tmp_path: Path
) -> None:
    target = tmp_path / "missing-dir" / "chart.png"
    done = cli.invoke(app, ["digest", "--chart", str(target)])
    assert done.exit_code == 1
    assert done.stderr.strip().count("\n") == 0
    assert str(target) in done.stderr and "No such file or directory" in done.stderr


def test_a_chart_written_is_named_by_its_path(cli: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "chart.png"
    done = cli.invoke(app, ["digest", "--chart", str(target)])
    assert done.exit_code == 0, done.output
    assert target.read_bytes().startswith(b"\x89PNG") and str(target) in done.stdout


def test_digest_with_a_region_file(cli: CliRunner, tmp_path: Path) -> None:
    done = cli.invoke(app, ["digest", "--region-file", str(region_file(tmp_path))])
    assert done.exit_code == 0, done.output
    assert "Regio Proef" in done.stdout  # not the demo region
    bad = tmp_path / "bad.yaml"
    bad.write_text("region: X\nnonsense: 1\n", encoding="utf-8")
    refused = cli.invoke(app, ["digest", "--region-file", str(bad)])
    assert refused.exit_code != 0 and "bad.yaml" in refused.stderr
    assert refused.stderr.strip().count("\n") == 0


def test_digest_follows_the_demo_clock_like_slash_digest(cli: CliRunner, tmp_path: Path) -> None:
    """After `/clock +3w` in the terminal demo, `vangnet digest` is the digest of that week."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.core import democlock
    from bot.store.models import BotSetting

    def week(ahead: timedelta) -> str:
        year, number, _ = (
            (datetime.now(UTC) + ahead).astimezone(ZoneInfo("Europe/Amsterdam")).isocalendar()
        )
        return f"{year}-W{number:02d}"

    assert week(timedelta(0)) in cli.invoke(app, ["digest"]).stdout
    engine = make_engine(f"sqlite:///{tmp_path}/v.db")
    with session_scope(engine) as session:  # as the terminal's /clock +3w leaves it
        session.add(BotSetting(key=democlock.SETTING, value=str(21 * 24 * 3600)))
    engine.dispose()
    done = cli.invoke(app, ["digest"])
    assert done.exit_code == 0, done.output
    assert week(timedelta(days=21)) in done.stdout


def _jesse(tmp_path: Path) -> str:
    """The reference of the demo leaver with personal details (the demo loads on first use)."""
    with session_scope(make_engine(f"sqlite:///{tmp_path}/v.db")) as session:
        return session.exec(select(Case.ref).where(Case.student_ref == "DB-2044")).one()


def test_erase_asks_first_and_refuses_without_an_answer(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert cli.invoke(app, ["export", "QQQQ"]).exit_code != 0  # loads the demo leavers
    ref = _jesse(tmp_path)
    for answer in ("", "n\n"):  # no standard input at all; a no
        done = cli.invoke(app, ["erase", ref], input=answer)
        assert done.exit_code == 1
        assert "Jesse Voorbeeld" in cli.invoke(app, ["export", ref]).stdout  # nothing erased
    done = cli.invoke(app, ["erase", ref], input="y\n")
    assert done.exit_code == 0, done.output
    assert "Jesse" not in cli.invoke(app, ["export", ref]).stdout


def test_erase_with_yes_asks_nothing(cli: CliRunner, tmp_path: Path) -> None:
    cli.invoke(app, ["export", "QQQQ"])
    ref = _jesse(tmp_path)
    done = cli.invoke(app, ["erase", "--yes", ref.lower()])
    assert done.exit_code == 0, done.output
    assert "Jesse" not in cli.invoke(app, ["export", ref]).stdout


def test_import_speaks_the_regions_language_and_takes_the_school_in_any_case(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dutch = str(region_file(tmp_path))  # no language: Dutch, the default
    missing = cli.invoke(app, ["import", "weg.csv", "--school", "brug", "--region-file", dutch])
    assert missing.exit_code == 2 and "Kan weg.csv niet lezen" in missing.stderr
    csv = tmp_path / "leerlingen.csv"
    csv.write_text(
        "leerling;woongemeente;onderwijs;uitstroomdatum\nAB1;Zwolle;pro;2027-06\n",
        encoding="utf-8",
    )
    done = cli.invoke(app, ["import", str(csv), "--school", "BRUG", "--region-file", dutch])
    assert done.exit_code == 0, done.output
    assert "1 uitstromer toegevoegd" in done.stdout
    monkeypatch.setenv("VANGNET_LANGUAGE", "en")
    english = cli.invoke(app, ["import", "gone.csv", "--school", "Brug", "--region-file", dutch])
    assert "Cannot read gone.csv" in english.stderr


def test_the_digest_without_chart_does_not_load_matplotlib(tmp_path: Path) -> None:
    """Drawing takes longer than counting: `vangnet digest` only draws for --chart."""
    script = (
        "import sys\n"
        "from bot.__main__ import app\n"
        "try:\n"
        "    app(['digest'])\n"
        "except SystemExit as done:\n"
        "    assert not done.code, done.code\n"
        "print('matplotlib loaded' if 'matplotlib' in sys.modules else 'no matplotlib')\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**base, "DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Weekly digest" in done.stdout or "Weekoverzicht" in done.stdout
    assert done.stdout.strip().endswith("no matplotlib")
