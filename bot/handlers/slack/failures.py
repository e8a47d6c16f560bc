"""Slack's errors sorted (`messaging.verdicts`): which mean the person cannot be reached,
which mean the bot's token is refused, and (everything else) which pass. One table, so that
what Slack adds is sorted here and nowhere else."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.core.messaging.verdicts import Failure, passing

# The person (or their direct message) is gone for good: their account deactivated, the
# conversation archived or closed to the bot
UNREACHABLE = frozenset(
    {
        "account_inactive",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "users_not_found",
        "user_disabled",
        "user_is_restricted",
        "cannot_dm_bot",
        "messages_tab_disabled",
    }
)
# Nothing can be sent by anyone: the token is wrong, revoked or expired
REVOKED = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "no_permission"}
)


def judge(exc: BaseException) -> Failure:
    if not isinstance(exc, SlackApiError):
        return passing(exc)
    error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
    if not isinstance(error, str):
        return Failure("passing", f"http {exc.response.status_code}")
    if error in UNREACHABLE:
        return Failure("unreachable", error)
    if error in REVOKED:
        return Failure("revoked", error)
    return Failure("passing", error)
