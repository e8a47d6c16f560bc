"""Telegram updates recorded before Telegram is told they arrived, and each handled once.

Telegram sends an update once it was not acknowledged, and never again once it was: a
webhook's 200, or a getUpdates whose offset has moved past it. So an update is written to
the `telegram_update` table first (`record`; the webhook answers 200 only after that, and
polling hands updates on only after that), and a process killed right after does not lose
it: what is recorded and not handled is handed on again (`waiting`), by the next start at
once and by any instance after `GRACE`.

Whoever handles an update takes it first (`take`: one conditional UPDATE, so of two
instances, or of a resent update and its first delivery, exactly one goes on) and marks it
handled when done (`done`, which also empties the payload: it may quote what someone
typed). An instance that dies half-way leaves its take to run out (`LEASE`), and the update
is handled again: handled once, except that one cut off in the middle is handled once more
(the core's conditional updates make a repeated claim say who has the case).

The update_id stays a day after it was handled (`prune`), so an update Telegram resends in
that time is not handled twice. Every function blocks on the database: call it in a worker
thread.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.core import clock
from bot.store.db import reader
from bot.store.models import TelegramUpdate

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # how long a take holds an update that is not done yet
GRACE = timedelta(seconds=30)  # an untaken update this young belongs to whoever recorded it
KEEP = timedelta(days=1)  # how long a handled update's id is kept
BATCH = 100  # updates handed on again at a time


def record(engine: Engine, updates: Sequence[Mapping[str, Any]]) -> None:
    """Write the updates (as Telegram sent them) in one transaction; one recorded before
    (Telegram sent it again) is left as it is."""
    now = clock.now()
    rows = [
        {"id": u["update_id"], "payload": json.dumps(u), "received_at": now}
        for u in updates
        if isinstance(u.get("update_id"), int)
    ]
    if not rows:
        return
    with engine.begin() as conn:
        dialect = conn.dialect.name
        if dialect in ("sqlite", "postgresql"):
            make = sqlite.insert if dialect == "sqlite" else postgresql.insert
            conn.execute(
                make(TelegramUpdate).values(rows).on_conflict_do_nothing(index_elements=["id"])
            )
            return
        for row in rows:
            try:
                with conn.begin_nested():
                    conn.execute(insert(TelegramUpdate).values(**row))
            except IntegrityError:
                pass


def take(engine: Engine, update_id: int) -> bool:
    """Whether this caller may handle the update: it is recorded, not handled, and nobody
    else holds it. Holds it for `LEASE`."""
    now = clock.now()
    with engine.begin() as conn:
        result = conn.execute(
            update(TelegramUpdate)
            .where(
                col(TelegramUpdate.id) == update_id,
                col(TelegramUpdate.handled_at).is_(None),
                or_(
                    col(TelegramUpdate.taken_until).is_(None),
                    col(TelegramUpdate.taken_until) < now,
                ),
            )
            .values(taken_until=now + LEASE)
        )
    return int(result.rowcount) == 1


def done(engine: Engine, update_id: int) -> None:
    """The update is handled: its payload is emptied, its id kept for `KEEP`."""
    with engine.begin() as conn:
        conn.execute(
            update(TelegramUpdate)
            .where(col(TelegramUpdate.id) == update_id)
            .values(handled_at=clock.now(), payload=None, taken_until=None)
        )


def waiting(engine: Engine, *, recorded_before: datetime) -> list[dict[str, Any]]:
    """Updates to hand on again, oldest first: recorded before `recorded_before` and never
    taken, or taken by someone whose take ran out, and not handled."""
    now = clock.now()
    with reader(engine).begin() as conn:
        payloads = conn.execute(
            select(col(TelegramUpdate.payload))
            .where(
                col(TelegramUpdate.handled_at).is_(None),
                or_(
                    (col(TelegramUpdate.taken_until).is_(None))
                    & (col(TelegramUpdate.received_at) < recorded_before),
                    col(TelegramUpdate.taken_until) < now,
                ),
            )
            .order_by(col(TelegramUpdate.id))
            .limit(BATCH)
        ).scalars()
        found = []
        for payload in payloads:
            try:
                found.append(json.loads(payload or ""))
            except (TypeError, ValueError):  # cannot be: it was written as JSON
                log.warning("telegram: a recorded update could not be read back")
        return found


def prune(engine: Engine, *, keep: timedelta = KEEP) -> int:
    """Forget updates handled more than `keep` ago; how many were forgotten."""
    before = clock.now() - keep
    with engine.begin() as conn:
        result = conn.execute(delete(TelegramUpdate).where(col(TelegramUpdate.handled_at) < before))
    return int(result.rowcount)
