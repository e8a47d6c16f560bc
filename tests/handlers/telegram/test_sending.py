"""Rendering for Telegram takes the database only when a button needs a stored token: a
message whose buttons all fit their callback data goes out while the database is busy or
away (on SQLite, without waiting for the write lock)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from telegram import Bot

from bot.core.replies import Button, Reply
from bot.handlers.telegram.sending import TelegramSender


def test_a_reply_needs_the_database_only_for_a_button_too_long_for_its_data(
    tmp_path: Path,
) -> None:
    away = create_engine(f"sqlite:///{tmp_path / 'missing' / 'vangnet.db'}")  # no such folder
    sender = TelegramSender(Bot("123:test"), away)
    card = Reply(text="Casus K7F2", buttons=[Button(label="Claimen", action="claim:K7F2")])
    (message,) = asyncio.run(sender.rendered([card]))
    assert message.reply_markup is not None
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "claim:K7F2"
    long = Reply(text="Kies", buttons=[Button(label="Zoë", action="form:choose:" + "Zoë" * 17)])
    with pytest.raises(OperationalError):  # its token must be stored first
        asyncio.run(sender.rendered([long]))
