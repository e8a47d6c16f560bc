"""What reaches the log: where it failed, never what it said; no SDK bodies, no tokens."""

from __future__ import annotations

import logging

import pytest

from bot.logs import PLATFORM_LOGGERS, log_failure, quiet_platform_loggers


def test_a_failure_is_logged_with_its_frames_and_type_but_not_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    details = "Jesse Voorbeeld, 06-12345678"  # what a person typed

    def deep() -> None:
        raise ValueError(details)

    try:
        try:
            deep()
        except ValueError as first:
            raise RuntimeError(f"while saving {details}") from first
    except RuntimeError as exc:
        with caplog.at_level(logging.ERROR):
            log_failure(logging.getLogger("vangnet.test"), "saving case %s failed", "K7F2", exc=exc)
    (record,) = caplog.records
    text = record.getMessage()
    assert record.levelno == logging.ERROR
    assert "saving case K7F2 failed: RuntimeError" in text
    assert "in deep" in text and "builtins.ValueError" in text  # the chain, with its frames
    assert "Jesse" not in text and "06-" not in text


def test_platform_sdks_do_not_log_bodies_even_with_the_root_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 14 item 9."""
    before = {name: logging.getLogger(name).level for name in PLATFORM_LOGGERS}
    try:
        with caplog.at_level(logging.DEBUG):
            quiet_platform_loggers()
            logging.getLogger("slack_sdk.web.base_client").debug("body: Jesse Voorbeeld")
            logging.getLogger("httpx").info("POST https://api.telegram.org/bot123:SECRET/x")
            logging.getLogger("slack_sdk.web.base_client").warning("rate limited")
        assert "Jesse" not in caplog.text and "SECRET" not in caplog.text
        assert "rate limited" in caplog.text
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
