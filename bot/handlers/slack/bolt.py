"""Building slack-bolt's AsyncApp around our Web API client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

BOLT_TOKEN_VARIABLE = "SLACK_BOT_TOKEN"  # what AsyncApp reads when not given a token


def bolt_app(client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    """The bolt app: our client (it carries the token), our signing secret, listeners acked
    before their work is done."""
    with _bolt_not_reading_the_token():
        return AsyncApp(
            name="vangnet",
            client=client,
            signing_secret=signing_secret,
            process_before_response=False,
        )


@contextmanager
def _bolt_not_reading_the_token() -> Iterator[None]:
    """bolt reads SLACK_BOT_TOKEN from the environment by itself; given our client as well, it
    warns at every start that the token will be unused. The client carries the token (read by
    Settings, from the environment or .env), so bolt is built without that variable in view."""
    token = os.environ.pop(BOLT_TOKEN_VARIABLE, None)
    try:
        yield
    finally:
        if token is not None:
            os.environ[BOLT_TOKEN_VARIABLE] = token
