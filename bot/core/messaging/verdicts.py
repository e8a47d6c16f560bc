"""What a failed send means, and who cannot be reached where.

Each transport sorts its platform's errors (its own table, in one place: `bot.handlers.slack.
failures`, `bot.handlers.telegram.failures`) into three verdicts:

- `passing`: tried again later with back-off (a 500, a time-out, a rate limit); one that
  lasts (`LASTING_ATTEMPTS` attempts, or `LASTING_AGE` since it was recorded) is told to the
  coordinator, once;
- `unreachable`: this person cannot be reached on this transport until something changes (an
  account deactivated, the bot blocked, the chat gone): their messages stop being tried
  there, the person is marked (`mark`), the coordinator is told at once and their cases go to
  someone else (`bot.core.cases.unreachable`);
- `revoked`: nobody can be reached (the bot's token is refused): an ERROR line, /healthz says
  degraded, and the messages wait, neither dropped nor marked.

The mark goes when the person writes again on that transport, or when the coordinator
changes them with /admin (`clear`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.core import clock
from bot.store.models import Person

Verdict = Literal["passing", "unreachable", "revoked"]
# A passing failure that lasts this long (or this many attempts) is told to the coordinator
LASTING_ATTEMPTS = 20
LASTING_AGE = timedelta(days=1)


@dataclass(frozen=True)
class Failure:
    """A transport's verdict on a failed send, with the platform's word for it (`reason`:
    Slack's error code, Telegram's description; never the message's content)."""

    verdict: Verdict
    reason: str


Judge = Callable[[BaseException], Failure]


def passing(exc: BaseException) -> Failure:
    """The verdict on what no table names: try again later."""
    return Failure("passing", type(exc).__name__)


def lasting(attempts: int, created_at: datetime) -> bool:
    """Whether a message that keeps failing has failed long enough to tell someone."""
    return attempts >= LASTING_ATTEMPTS or clock.now() - created_at >= LASTING_AGE


def unreachable_on(person: Person) -> dict[str, str]:
    """The transports `person` cannot be reached on, with the platform's reason."""
    return {via: str(mark.get("reason", "")) for via, mark in (person.unreachable or {}).items()}


def mark(person: Person, via: str, reason: str) -> bool:
    """Mark `person` unreachable on `via`; False when they were marked already."""
    marks = dict(person.unreachable or {})
    if via in marks:
        return False
    marks[via] = {"reason": reason[:80], "since": clock.now().isoformat()}
    person.unreachable = marks  # a new dict: the JSON column sees the change
    return True


def clear(person: Person, via: str | None = None) -> bool:
    """Take the mark away (of `via`, or every one); False when there was none."""
    marks = dict(person.unreachable or {})
    if not marks or (via is not None and via not in marks):
        return False
    if via is None:
        marks.clear()
    else:
        del marks[via]
    person.unreachable = marks or None
    return True


@dataclass
class Reach:
    """What a courier does about failures beyond trying again (all but `judge` block on the
    database: run in a worker thread):

    - `judge` sorts a failure (the transport's table);
    - `unreachable(person_id, via, reason)` marks the person, holds their messages, sends
      their cases on and tells the coordinators;
    - `hold(person_ids)` holds what waits for those of these people nobody reaches (they are
      marked) and sends their cases on;
    - `lasting(message_id, via)` tells the coordinators, once, of a message that keeps
      failing;
    - `health`: transport → why nothing can be sent there (its token is refused), shared with
      /healthz."""

    judge: Judge
    unreachable: Callable[[str, str, str], object]
    hold: Callable[[list[str]], object]
    lasting: Callable[[int, str], object]
    health: dict[str, str] = field(default_factory=dict)
