"""The Telegram transport leaves the process's environment as the operator set it."""

from __future__ import annotations

import importlib
import os

import pytest

import bot.handlers.telegram


def test_importing_the_transport_sets_no_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PTB_TIMEDELTA")
    before = dict(os.environ)
    importlib.reload(bot.handlers.telegram)
    assert dict(os.environ) == before
