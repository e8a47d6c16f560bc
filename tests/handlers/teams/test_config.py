"""Teams' three settings go together: a start with only some of them is refused in one line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.__main__ import app
from bot.config import Settings


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "TELEGRAM_", "TEAMS_", "VANGNET_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/v.db")
    return CliRunner()


def test_a_start_with_only_some_teams_settings_is_refused_in_one_line(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("TEAMS_TENANT_ID", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
    done = cli.invoke(app, ["run"], input="")
    assert done.exit_code == 2
    assert done.stderr.strip() == (
        "Teams heeft TEAMS_APP_ID, TEAMS_APP_PASSWORD en TEAMS_TENANT_ID samen nodig; "
        "niet ingesteld: TEAMS_APP_PASSWORD."
    )
    assert not (tmp_path / "v.db").exists()  # stopped before the database was touched


def test_teams_runs_with_all_three_and_is_off_with_none() -> None:
    all_three = Settings(
        _env_file=None,  # type: ignore[call-arg]
        teams_app_id="11111111-2222-3333-4444-555555555555",
        teams_app_password="secret",  # type: ignore[arg-type]
        teams_tenant_id="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    )
    assert all_three.teams_enabled and all_three.platform_enabled
    none = Settings(_env_file=None)  # type: ignore[call-arg]
    assert not none.teams_enabled and none.teams_missing == []
