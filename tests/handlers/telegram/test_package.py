"""The Telegram transport sets what python-telegram-bot needs before it is used."""

from __future__ import annotations

import importlib
import os

import pytest

import bot.handlers.telegram


def test_importing_the_transport_asks_ptb_for_timedeltas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PTB_TIMEDELTA")
    importlib.reload(bot.handlers.telegram)
    assert os.environ["PTB_TIMEDELTA"] == "true"
