"""encrypt personal fields: names, contact details, notes, reasons, form answers, outbox messages

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

Encrypts what is stored in place with the newest key of VANGNET_SECRET_KEY (the same rules as
at start: bot/store/secret_key.py). A value that is already a Fernet token is left alone, so running
this on data that was (partly) encrypted before is safe. On PostgreSQL the columns become TEXT
(a token is about four thirds of the text plus 100 characters, past the old VARCHAR lengths;
JSON becomes the token's text); SQLite keeps no lengths and stores JSON as text already.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_COLUMNS = {
    "cases": {
        "name": 200,
        "contact": 300,
        "notes": 2000,
        "placement_org": 200,
        "closed_reason": 300,
        "handed_over_to": 300,
    },
}
JSON_COLUMNS = {"conversation": ["answers"], "outbox": ["payload"]}
BATCH = 500


def _columns() -> dict[str, list[str]]:
    found = {name: list(cols) for name, cols in TEXT_COLUMNS.items()}
    for name, cols in JSON_COLUMNS.items():
        found.setdefault(name, []).extend(cols)
    return found


def _keys() -> None:
    from bot.store import crypto

    if crypto.keys_in_use():
        return
    from bot.cli.support import cli_translator, load_settings, say
    from bot.store import secret_key

    settings = load_settings()
    notice = secret_key.install(settings, cli_translator(settings))
    if notice:
        say(notice)


def _convert(conn: sa.engine.Connection, name: str, columns: list[str], *, encrypt: bool) -> None:
    """Encrypt (or decrypt) every value of `columns` in table `name`, BATCH rows at a time."""
    from bot.store import crypto

    tbl = crypto.raw_table(name, columns)
    last = 0
    while True:
        rows = conn.execute(
            sa.select(tbl.c.id, *(tbl.c[c] for c in columns))
            .where(tbl.c.id > last)
            .order_by(tbl.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            last = row[0]
            changed = {}
            for c, value in zip(columns, row[1:], strict=True):
                if value is None:
                    continue
                if encrypt and not crypto.is_token(value):
                    changed[c] = crypto.encrypt(value)
                elif encrypt:
                    crypto.decrypt(value)  # a token of another key: refused, not left garbled
                elif crypto.is_token(value):
                    changed[c] = crypto.decrypt(value)
            if changed:
                conn.execute(sa.update(tbl).where(tbl.c.id == row[0]).values(**changed))


def upgrade() -> None:
    from bot.store import crypto

    _keys()
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        for name, lengths in TEXT_COLUMNS.items():
            for c in lengths:
                op.alter_column(name, c, type_=sa.Text(), existing_type=sa.String(lengths[c]))
        for name, cols in JSON_COLUMNS.items():
            for c in cols:
                op.alter_column(
                    name, c, type_=sa.Text(), existing_type=sa.JSON(), postgresql_using=f"{c}::text"
                )
    for name, cols in _columns().items():
        _convert(conn, name, cols, encrypt=True)
    crypto.ensure_canary(conn)


def downgrade() -> None:

    _keys()
    conn = op.get_bind()
    for name, cols in _columns().items():
        _convert(conn, name, cols, encrypt=False)
    conn.execute(sa.text("DELETE FROM bot_setting WHERE key IN ('key_check', 'key_rotated_at')"))
    if conn.dialect.name == "postgresql":
        for name, lengths in TEXT_COLUMNS.items():
            for c, n in lengths.items():
                op.alter_column(name, c, type_=sa.String(n), existing_type=sa.Text())
        for name, cols in JSON_COLUMNS.items():
            for c in cols:
                op.alter_column(
                    name, c, type_=sa.JSON(), existing_type=sa.Text(), postgresql_using=f"{c}::json"
                )
