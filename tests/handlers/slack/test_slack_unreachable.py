"""Slack refusing to reach someone (issue 24 item 1), end to end: a broker whose account was
deactivated is tried once, the coordinator is told by name and gets the case; a revoked token
makes /healthz say degraded while every message waits."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person
from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import make_dm
from tests.handlers.slack.fake_slack import eventually
from tests.handlers.slack.scenario import early_leaver, text_of


async def test_a_deactivated_account_is_tried_once_and_the_case_reaches_the_coordinator(
    slack: SlackRig,
) -> None:
    slack.fake.deactivated.add("U01BRAM")  # the only broker of Kampen
    case = early_leaver(slack.core, school="vlinder", by="mila")

    def to_anna(words: str) -> list[str]:
        return [text_of(c) for c in slack.fake.posted("D01ANNA") if words in text_of(c)]

    await eventually(lambda: len(to_anna(case.ref)) == 2, timeout=10)
    (told,) = [t for t in to_anna("Bram Bakker") if "Slack (account_inactive)" in t]
    assert case.ref in told
    tried = [
        c
        for c in slack.fake.calls_to("chat.postMessage", ok_only=False)
        if c.body.get("channel") == "D01BRAM"
    ]
    assert len(tried) == 1  # not 58 attempts in two minutes
    assert (await slack.http.get(f"{slack.url}/healthz")).text == "ok"  # Slack itself works
    with session_scope(slack.core.engine) as session:
        bram = session.get(Person, "bram")
        assert bram is not None and bram.unreachable is not None

    # Bram's account is back and he writes: the card that waited for him goes out
    slack.fake.deactivated.clear()
    await slack.post(make_dm("hallo", user="U01BRAM"))
    await eventually(lambda: any(case.ref in text_of(c) for c in slack.fake.posted("D01BRAM")))


async def test_a_revoked_token_is_an_error_line_and_healthz_says_degraded(
    slack: SlackRig, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.revoked = True
    with caplog.at_level(logging.ERROR):
        early_leaver(slack.core, school="vlinder", by="mila")

        async def degraded() -> bool:
            return "degraded" in (await slack.http.get(f"{slack.url}/healthz")).text

        await eventually(degraded, timeout=10)
    assert any(r.levelno == logging.ERROR and "token" in r.getMessage() for r in caplog.records)
    with session_scope(slack.core.engine) as session:
        waiting = session.exec(select(OutboxMessage)).all()
        assert waiting and all(m.sent_at is None and m.dropped_at is None for m in waiting)
        assert all(not p.unreachable for p in session.exec(select(Person)).all())
    slack.fake.revoked = False  # a new token: what waited goes out
    await eventually(lambda: bool(slack.fake.posted("D01BRAM")), timeout=10)
    assert (await slack.http.get(f"{slack.url}/healthz")).text == "ok"
