"""What a person is told when their request fails: that Vangnet cannot reach its data right
now (the database is away: try again in a minute), that it cannot read its data with the key
it runs on (the key was rotated and this instance still has the old one), or that something
went wrong."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError

from bot.core.i18n import N_, Translator
from bot.core.replies import Reply
from bot.store import crypto

log = logging.getLogger(__name__)

FAILED = N_("Something went wrong. Please try again later.")
UNAVAILABLE = N_("Vangnet cannot reach its data right now. Please try again in a minute.")
OLD_KEY = N_(
    "Vangnet cannot read its data with the key it runs on: the key was changed. Ask whoever "
    "runs Vangnet to restart it with the new key."
)


def unavailable(exc: BaseException) -> bool:
    """The database (or the connection to it) failed, rather than Vangnet itself."""
    return isinstance(exc, (DBAPIError, TimeoutError, ConnectionError))


def failure_text(exc: BaseException) -> str:
    """The msgid that says why a request failed (an old key is logged as an ERROR too)."""
    if isinstance(exc, crypto.WrongKey):
        log.error(
            "the data is encrypted with a key this instance does not have (was `vangnet keys "
            "rotate` run?): restart it with the new VANGNET_SECRET_KEY"
        )
        return OLD_KEY
    return UNAVAILABLE if unavailable(exc) else FAILED


async def tell_failure(
    tell: Callable[[list[Reply]], Awaitable[None]], t: Translator, exc: BaseException
) -> None:
    """Say briefly that the request failed (or that the data is out of reach); if even that
    fails, log it: there is nobody else to tell."""
    try:
        await tell([Reply(text=t(failure_text(exc)), error=True)])
    except Exception as again:
        log.error("could not tell about a failure: %s", type(again).__name__)
