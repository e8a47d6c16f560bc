"""The Bot Connector's errors sorted (`messaging.verdicts`): which mean the person cannot be
reached (403: the app was uninstalled or the user blocked it; 404: the conversation or the
user is gone; no conversation with them yet), which mean the bot's credentials are refused
(401), and (everything else: a 429 waited out too long, a 5xx, the network) which pass."""

from __future__ import annotations

from aiohttp import ClientResponseError

from bot.core.messaging.verdicts import Failure, passing


class NoConversation(Exception):
    """The bot has no conversation with the person yet: the app is not installed for them and
    they never wrote to it."""


def judge(exc: BaseException) -> Failure:
    if isinstance(exc, NoConversation):
        return Failure("unreachable", "no conversation")
    if isinstance(exc, ClientResponseError):
        if exc.status == 401:
            return Failure("revoked", "unauthorized")
        if exc.status == 403:
            return Failure("unreachable", "forbidden")
        if exc.status == 404:
            return Failure("unreachable", "not found")
    return passing(exc)
