"""`vangnet keys rotate`: every encrypted value re-encrypted with the newest key.

Table by table, in batches of rows by id, each batch its own transaction: an interrupted
rotation has kept what it did, and running it again skips every value already on the newest
key, so it goes on where it stopped. A value is only replaced if it is still the one that was
read (a conditional UPDATE), so a change made meanwhile by a running Vangnet is never undone.
When every value is done the canary is re-encrypted and the moment recorded
(`bot_setting.key_rotated_at`); from then on the old key may be dropped from
VANGNET_SECRET_KEY.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlmodel import SQLModel

from bot.store import crypto
from bot.store.types import encrypted_columns


@dataclass
class Rotated:
    """What a rotation did: values re-encrypted per table, and values found already done."""

    changed: dict[str, int] = field(default_factory=dict)
    kept: int = 0

    @property
    def total(self) -> int:
        return sum(self.changed.values())


def encrypted_by_table() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, col in encrypted_columns(SQLModel.metadata):
        found.setdefault(name, []).append(col)
    return found


def rotate(
    engine: Engine,
    *,
    now: datetime,
    batch: int = 500,
    after_batch: Callable[[str, int], None] | None = None,
) -> Rotated:
    """Re-encrypt every encrypted value with the newest key. `after_batch(table, n)` is called
    after each committed batch (for progress)."""
    done = Rotated()
    for name, columns in encrypted_by_table().items():
        done.changed[name] = 0
        tbl = crypto.raw_table(name, columns)
        last = 0
        while True:
            with engine.begin() as conn:
                rows = conn.execute(
                    select(tbl.c.id, *(tbl.c[c] for c in columns))
                    .where(tbl.c.id > last)
                    .order_by(tbl.c.id)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                for row in rows:
                    last = row[0]
                    for c, value in zip(columns, row[1:], strict=True):
                        if value is None or crypto.on_newest_key(value):
                            done.kept += value is not None
                            continue
                        conn.execute(
                            update(tbl)
                            .where(tbl.c.id == row[0], tbl.c[c] == value)
                            .values({c: crypto.rotate_token(value)})
                        )
                        done.changed[name] += 1
            if after_batch is not None:
                after_batch(name, len(rows))
    with engine.begin() as conn:
        crypto.store_canary(conn)
        crypto.put_setting(conn, crypto.ROTATED_KEY, now.isoformat())
    return done
