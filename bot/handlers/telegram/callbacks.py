"""Button actions as Telegram callback data, which holds at most 64 bytes.

A core action is at most 64 characters, but characters are not bytes: `form:choose:Zoë …` can
be longer in UTF-8. An action that fits is sent as it is (readable, and no database trip); one
that does not is stored in the `telegram_callback` table and the button carries `~` and a
short token instead. The token is derived from the action (a hash), so every render and every
instance gives the same action the same token with one insert that does nothing when the row
is there; it lives in the database, so a button keeps working after a restart, until the row
is pruned (`prune`, after `KEEP` without being issued again).

Keyword-only functions taking a session, like the store's queries; the caller commits.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.core import clock
from bot.store.models import TelegramCallback

MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit
TOKEN_MARK = "~"  # starts the callback data of a stored action; no core action starts with it
TOKEN_LENGTH = 16  # url-safe base64 characters: 96 bits of the action's hash
KEEP = timedelta(days=90)
# issuing a token again refreshes its row at most this often, not on every render
REFRESH_AFTER = timedelta(days=1)


def fits(action: str) -> bool:
    """Whether `action` can be sent as callback data as it is."""
    return 0 < len(action.encode("utf-8")) <= MAX_CALLBACK_DATA and not action.startswith(
        TOKEN_MARK
    )


def token_of(action: str) -> str:
    """The token of an action: short, url-safe, the same everywhere."""
    digest = hashlib.sha256(action.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:TOKEN_LENGTH]


def token_for(session: Session, action: str) -> str:
    """Store `action` (once) and give its token."""
    token = token_of(action)
    now = clock.now()
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        make = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = make(TelegramCallback).values(token=token, action=action, issued_at=now)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["token"],
                set_={"issued_at": now},
                where=col(TelegramCallback.issued_at) < now - REFRESH_AFTER,
            )
        )
        return token
    row = session.get(TelegramCallback, token)
    if row is not None:
        row.issued_at = now
        session.add(row)
        return token
    try:
        with session.begin_nested():
            session.add(TelegramCallback(token=token, action=action, issued_at=now))
    except IntegrityError:  # another instance stored it just now: the same action
        pass
    return token


def action_for(session: Session, token: str) -> str | None:
    """The action stored under `token`, or None when it is unknown or was pruned."""
    row = session.get(TelegramCallback, token)
    return None if row is None else row.action


def callback_data(session: Session, action: str) -> str:
    """What a button with `action` carries: the action itself, or `~` and its token."""
    return action if fits(action) else TOKEN_MARK + token_for(session, action)


def is_token(data: str) -> bool:
    """Whether a button's callback data is a stored action's token (else it is the action)."""
    return data.startswith(TOKEN_MARK)


def action_of(session: Session, data: str) -> str | None:
    """The action a pressed button stands for (None: a token that is no longer known)."""
    if is_token(data):
        return action_for(session, data.removeprefix(TOKEN_MARK))
    return data


def prune(session: Session, *, keep: timedelta = KEEP, now: datetime | None = None) -> int:
    """Forget actions not issued for `keep`; how many were forgotten."""
    before = (now or clock.now()) - keep
    result = session.execute(
        delete(TelegramCallback).where(col(TelegramCallback.issued_at) < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
