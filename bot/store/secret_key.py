"""Where the key for the personal fields comes from (VANGNET_SECRET_KEY), checked at start.

- VANGNET_SECRET_KEY set: one or more Fernet keys, comma-separated, newest first.
- Not set, on the embedded default only (SQLite, no Slack or Telegram): the key in a file
  beside the database (`vangnet.key` next to `vangnet.db`, readable by its owner only), made
  the first time with a line saying so. The terminal chat works on a fresh machine. A
  database that holds encrypted data but whose key file is gone is refused (a new key would
  not open it); a key file others can read gets a warning.
- Not set on a platform deployment or PostgreSQL: refused, saying how to make a key.

A key that does not open the database's data is refused before anything is read
(`crypto.check_key`). The key is never logged and never stored in the database.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol

from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.store import crypto


class Translator(Protocol):
    """What says a refusal in the reader's language (`bot.core.i18n.Translator` is one; the
    store takes it from above rather than importing the core)."""

    def __call__(self, message: str, /, **params: Any) -> str: ...


class KeyRefused(Exception):
    """A key problem at start, said in one line in the reader's language."""


def generate() -> str:
    return Fernet.generate_key().decode("ascii")


def parse(raw: str, t: Translator, source: str = "VANGNET_SECRET_KEY") -> list[bytes]:
    """The keys of a VANGNET_SECRET_KEY value (or key file), newest first; KeyRefused for a
    bad one."""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts:
        raise KeyRefused(
            t("{source} is empty. Make a key with `vangnet keys generate`.", source=source)
        )
    keys = []
    for n, part in enumerate(parts, start=1):
        try:
            Fernet(part)
        except ValueError:
            raise KeyRefused(
                t(
                    "Key {n} in {source} is not a Fernet key (44 characters of URL-safe "
                    "base64). Make one with `vangnet keys generate`.",
                    n=n,
                    source=source,
                )
            ) from None
        keys.append(part.encode("ascii"))
    return keys


def key_file(database_url: str) -> Path | None:
    """The key file of a SQLite database (beside it), None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:":
        return Path("vangnet.key")
    return Path(database).with_name(Path(database).stem + ".key")


def check(settings: Settings, t: Translator) -> None:
    """Refuse, before anything is opened, a missing key where one is needed, or a bad one."""
    if settings.vangnet_secret_key is not None:
        parse(settings.vangnet_secret_key.get_secret_value(), t)
        return
    if settings.platform_enabled or key_file(settings.database_url) is None:
        raise KeyRefused(
            t(
                "VANGNET_SECRET_KEY is not set. The personal data is encrypted with it; a "
                "deployment with Slack, Telegram or PostgreSQL needs one. Make a key with "
                "`vangnet keys generate`, keep it safe (a password manager, the platform's "
                "secrets) and set it as VANGNET_SECRET_KEY."
            )
        )


def load(settings: Settings, t: Translator) -> tuple[list[bytes], str | None]:
    """The keys to use, and a line to show when a key file was just made."""
    check(settings, t)
    if settings.vangnet_secret_key is not None:
        return parse(settings.vangnet_secret_key.get_secret_value(), t), None
    path = key_file(settings.database_url)
    assert path is not None  # check() refused the rest
    if path.exists():
        keys = parse(path.read_text(encoding="ascii", errors="replace"), t, str(path))
        if path.stat().st_mode & 0o077:
            return keys, t(
                "Warning: the key file {path} can be read by others than you. Make it yours "
                "alone: chmod 600 {path}",
                path=path,
            )
        return keys, None
    database = make_url(settings.database_url).database
    if database and database != ":memory:" and holds_encrypted_data(Path(database)):
        # a new key would not open what is there, and would be left behind for the next start
        raise KeyRefused(
            t(
                "The key file {path} is missing: the personal data in {database} was "
                "encrypted with the key that was in it. Put the key file back beside the "
                "database (or set VANGNET_SECRET_KEY to that key).",
                path=path,
                database=database,
            )
        )
    key = generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    notice = t(
        "No VANGNET_SECRET_KEY set: a new key for this local database is in {path} (only you "
        "can read it). Keep it with the database: without it the personal data cannot be read.",
        path=path,
    )
    return [key.encode("ascii")], notice


def holds_encrypted_data(database: Path) -> bool:
    """Whether a SQLite file holds data encrypted with a key (its canary: `crypto`); read
    only, so that nothing is written to a database about to be refused."""
    if not database.exists():
        return False
    try:
        with closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            found = conn.execute(
                "SELECT 1 FROM bot_setting WHERE key = ?", (crypto.CANARY_KEY,)
            ).fetchone()
    except sqlite3.Error:  # no such table (a new database), or not a database at all
        return False
    return found is not None


def install(settings: Settings, t: Translator) -> str | None:
    """Load the keys and use them in this process; the notice of a new key file, if any."""
    keys, notice = load(settings, t)
    crypto.use_keys(keys)
    return notice
