"""Encryption at rest of the personal fields: the process's keys and what uses them.

The keys (VANGNET_SECRET_KEY: one or more Fernet keys, newest first) are handed over once at
start (`use_keys`, by `bot/store/secret_key.py`); the column types in `bot/store/types.py` encrypt
with the newest and decrypt with any of them (cryptography's MultiFernet), so an old key can
be listed after a new one while `vangnet keys rotate` re-encrypts everything. A key is never
written to the database or the log; the database holds a canary (a known word encrypted with
the key) so that a wrong key is refused at start instead of failing half-way.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine, String, TableClause, column, inspect, table, text
from sqlalchemy.engine import Connection

# Every Fernet token starts with its version byte 0x80 and a timestamp's high zero bytes,
# which base64 writes as "gAAAAA": how a migration tells a stored token from plain text.
TOKEN_PREFIX = "gAAAAA"
CANARY_KEY = "key_check"
ROTATED_KEY = "key_rotated_at"
_CANARY_WORD = "vangnet"


class KeyProblem(Exception):
    """The keys cannot open what is stored (a wrong key), or there are none."""


class NoKey(KeyProblem):
    pass


class WrongKey(KeyProblem):
    pass


@dataclass
class _KeyRing:
    fernet: MultiFernet | None = None
    newest: Fernet | None = None


_ring = _KeyRing()


def use_keys(keys: list[bytes]) -> None:
    """The keys this process encrypts (with the first) and decrypts (with any) with."""
    if not keys:
        raise NoKey("no key")
    fernets = [Fernet(k) for k in keys]
    _ring.fernet = MultiFernet(fernets)
    _ring.newest = fernets[0]


def keys_in_use() -> bool:
    return _ring.fernet is not None


def _fernet() -> MultiFernet:
    if _ring.fernet is None:
        raise NoKey("no encryption key was set up for this process")
    return _ring.fernet


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise WrongKey("a stored value cannot be decrypted with the keys given") from None


def is_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


def on_newest_key(token: str) -> bool:
    """Whether `token` was encrypted with the newest key (rotation leaves it alone)."""
    assert _ring.newest is not None
    try:
        _ring.newest.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def rotate_token(token: str) -> str:
    """The same plain text, encrypted with the newest key."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise WrongKey("a stored value cannot be decrypted with the keys given") from None


# --- the stored text of encrypted columns (which they are: `types.encrypted_columns`) -----------


def raw_table(name: str, columns: list[str]) -> TableClause:
    """A lightweight view of `name` whose encrypted columns read as the stored text."""
    return table(name, column("id"), *(column(c, String()) for c in columns))


# --- the canary: a wrong key is refused at start ----------------------------------------------


def _setting(conn: Connection, key: str) -> str | None:
    found = conn.execute(text("SELECT value FROM bot_setting WHERE key = :k"), {"k": key}).first()
    return None if found is None else str(found[0])


def _put_setting(conn: Connection, key: str, value: str) -> None:
    if _setting(conn, key) is None:
        conn.execute(
            text("INSERT INTO bot_setting (key, value) VALUES (:k, :v)"), {"k": key, "v": value}
        )
    else:
        conn.execute(
            text("UPDATE bot_setting SET value = :v WHERE key = :k"), {"k": key, "v": value}
        )


def ensure_canary(conn: Connection) -> None:
    """Check the stored canary opens with the keys (WrongKey if not); store one if none is."""
    stored = _setting(conn, CANARY_KEY)
    if stored is None:
        _put_setting(conn, CANARY_KEY, encrypt(_CANARY_WORD))
    elif decrypt(stored) != _CANARY_WORD:
        raise WrongKey("the canary holds something else")


def check_key(engine: Engine) -> None:
    """Refuse (WrongKey) a key that does not open this database's data. Nothing to check on a
    database without the settings table yet (a fresh one)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("bot_setting"):
            return
        stored = _setting(conn, CANARY_KEY)
    if stored is not None and decrypt(stored) != _CANARY_WORD:
        raise WrongKey("the canary holds something else")


def store_canary(conn: Connection) -> None:
    """The canary, encrypted with the newest key (after a rotation)."""
    _put_setting(conn, CANARY_KEY, encrypt(_CANARY_WORD))


def put_setting(conn: Connection, key: str, value: str) -> None:
    _put_setting(conn, key, value)


def setting(conn: Connection, key: str) -> str | None:
    return _setting(conn, key)
