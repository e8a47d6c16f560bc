"""Messages for everyone in a place (a channel, a group): which platform message shows a
reply that is updated in place.

Which commands and buttons speak to the place is their row's `for_the_place` in the command
table (`bot.core.commands.for_the_place`): a command of the scan typed in a channel, or a
button of its messages pressed there, is handled for that place; the core gets the place and
is told the place is not private, so what belongs in the private chat (the facilitator's
form) goes there through the outbox. Other commands typed in a channel are answered to the
caller alone, as a private place.

A reply with `updates` ("scan:12:f3") is one message that changes (a count of votes): the
first time it is posted, and where it was posted is kept here (the `place_message` table),
so that later replies with the same key edit that message, also after a restart and on
another instance.

A place can move (a Telegram group that became a supergroup has a new chat id): `move` takes
its scan sessions and its remembered messages along, and the places within it (a topic).
"""

from __future__ import annotations

from sqlalchemy import Engine, String, func, literal, or_, update
from sqlmodel import col

from bot.core import clock
from bot.store.db import session_scope
from bot.store.models import PlaceMessage, ScanSession


def shown_at(engine: Engine, key: str, place: str) -> str | None:
    """The platform's reference of the message showing `key` in `place`, if one was posted."""
    with session_scope(engine, write=False) as session:
        row = session.get(PlaceMessage, key)
        return row.platform_ref if row is not None and row.place == place else None


def place_of(engine: Engine, key: str) -> str | None:
    """The place where the message showing `key` was posted, if one was (a button pressed in
    a private chat may change a message of a group: who is at the scan's table)."""
    with session_scope(engine, write=False) as session:
        row = session.get(PlaceMessage, key)
        return row.place if row is not None else None


def remember(engine: Engine, key: str, place: str, platform_ref: str) -> None:
    """The message showing `key` in `place` is `platform_ref` from now on."""
    with session_scope(engine) as session:
        row = session.get(PlaceMessage, key)
        if row is None:
            row = PlaceMessage(
                key=key, place=place, platform_ref=platform_ref, updated_at=clock.now()
            )
        row.place, row.platform_ref, row.updated_at = place, platform_ref, clock.now()
        session.add(row)


def move(engine: Engine, old: str, new: str) -> None:
    """Everything of place `old` (and of the places within it, `old:…`) is `new`'s now: its
    scan sessions, open or closed, and its remembered messages. Doing it twice is harmless."""
    within = old.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ":%"
    with session_scope(engine) as session:
        for table, column in (
            (ScanSession, ScanSession.place),
            (ScanSession, ScanSession.open_place),
            (PlaceMessage, PlaceMessage.place),
        ):
            session.execute(
                update(table)
                .where(or_(col(column) == old, col(column).like(within, escape="\\")))
                .values({column: literal(new, String) + func.substr(col(column), len(old) + 1)})
            )
