"""Telegram's errors sorted (`messaging.verdicts`): which mean the person cannot be reached,
which mean the bot's token is refused, and (everything else) which pass. One table, so that
what Telegram adds (a group that moved, say) is sorted here and nowhere else."""

from __future__ import annotations

from telegram.error import BadRequest, Forbidden, InvalidToken

from bot.core.messaging.verdicts import Failure, passing

# Telegram's descriptions (lower case) that mean the chat is gone for good. Every 403
# (Forbidden: blocked, deactivated, kicked, never started) means so too.
UNREACHABLE = (
    "bot was blocked by the user",
    "user is deactivated",
    "chat not found",
    "bot was kicked",
    "bot can't initiate conversation",
    "peer_id_invalid",
    "have no rights to send",
)


def judge(exc: BaseException) -> Failure:
    if isinstance(exc, InvalidToken):  # 401 (and 404: a token of the wrong shape)
        return Failure("revoked", "unauthorized")
    said = str(exc).casefold()
    known = next((words for words in UNREACHABLE if words in said), None)
    if isinstance(exc, Forbidden):
        return Failure("unreachable", known or "forbidden")
    if isinstance(exc, BadRequest) and known is not None:
        return Failure("unreachable", known)
    return passing(exc)
