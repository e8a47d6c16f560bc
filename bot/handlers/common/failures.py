"""What a person is told when their request fails: that Vangnet cannot reach its data right
now (the database is away: try again in a minute), or that something went wrong."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError

from bot.core.i18n import N_, Translator
from bot.core.replies import Reply

log = logging.getLogger(__name__)

FAILED = N_("Something went wrong. Please try again later.")
UNAVAILABLE = N_("Vangnet cannot reach its data right now. Please try again in a minute.")


def unavailable(exc: BaseException) -> bool:
    """The database (or the connection to it) failed, rather than Vangnet itself."""
    return isinstance(exc, (DBAPIError, TimeoutError, ConnectionError))


async def tell_failure(
    tell: Callable[[list[Reply]], Awaitable[None]], t: Translator, exc: BaseException
) -> None:
    """Say briefly that the request failed (or that the data is out of reach); if even that
    fails, log it: there is nobody else to tell."""
    try:
        await tell([Reply(text=t(UNAVAILABLE if unavailable(exc) else FAILED), error=True)])
    except Exception as again:
        log.error("could not tell about a failure: %s", type(again).__name__)
