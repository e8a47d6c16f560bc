"""Building slack-bolt's AsyncApp around our Web API client."""

from __future__ import annotations

import logging

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

# The logger bolt's AsyncApp warns on when it is not given one of ours.
BOLT_APP_LOGGER = "slack_bolt.AsyncApp"


class _TokenSkipped(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment by itself; given our client as well (it
    carries the token, read by Settings from the environment or .env), it warns at every start
    that the variable's token will be unused. That one warning tells an operator nothing: it
    is left out, every other message of bolt's is kept. The environment is not touched."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_TOKEN_SKIPPED = _TokenSkipped()


def bolt_app(client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    """The bolt app: our client (it carries the token), our signing secret, listeners acked
    before their work is done."""
    logging.getLogger(BOLT_APP_LOGGER).addFilter(_TOKEN_SKIPPED)  # once: a filter is a set
    return AsyncApp(
        name="vangnet",
        client=client,
        signing_secret=signing_secret,
        process_before_response=False,
    )
