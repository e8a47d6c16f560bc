"""Column types that behave the same on SQLite and PostgreSQL, and the encrypted ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.store import crypto


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always hands back aware UTC datetimes.

    SQLite keeps no time zone, so a naive value read back is taken to be UTC; writing a naive
    value is refused, which keeps local wall-clock times out of the database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Encrypted:
    """Marks a column type that stores its values encrypted (`bot/store/crypto.py`): the
    privacy report, `vangnet keys rotate` and the tests find the personal columns by it."""


class EncryptedText(Encrypted, TypeDecorator[str]):
    """Text stored as a Fernet token; None stays NULL. Never filtered or sorted on in SQL:
    the same text encrypts differently every time."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else crypto.encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else crypto.decrypt(value)


class EncryptedJSON(Encrypted, TypeDecorator[Any]):
    """A JSON document stored as one Fernet token (the outbox's messages, a form's answers)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else crypto.encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(crypto.decrypt(value))


def encrypted_columns(metadata: MetaData) -> list[tuple[str, str]]:
    """(table, column) of every column whose type encrypts, in table and column order."""
    return [
        (t.name, c.name)
        for t in metadata.sorted_tables
        for c in t.columns
        if isinstance(c.type, Encrypted)
    ]
