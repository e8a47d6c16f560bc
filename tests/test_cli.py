"""The command line: a bad region file stops the start; migrations run on their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from bot.store.db import make_engine


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


def test_telegram_which_is_not_built_yet_is_said_plainly(tmp_path: Path) -> None:
    done = vangnet(
        "run",
        env={"TELEGRAM_BOT_TOKEN": "123:abc", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
        cwd=tmp_path,
    )
    assert done.returncode != 0 and "TELEGRAM_BOT_TOKEN" in done.stderr


def test_slack_in_http_mode_needs_its_signing_secret(tmp_path: Path) -> None:
    done = vangnet(
        "run",
        env={"SLACK_BOT_TOKEN": "xoxb-test", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
        cwd=tmp_path,
    )
    assert done.returncode != 0 and "SLACK_SIGNING_SECRET" in done.stderr
