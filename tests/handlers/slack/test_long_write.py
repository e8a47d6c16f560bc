"""A long write (an import of thousands of rows holding SQLite's write lock) while people use
Slack: every request is acknowledged, /healthz answers, and commands that only read answer.
Writes wait their turn and go through once the long write ends (issue 14, item 4)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, insert

from bot.core import clock
from bot.store.models import Task
from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import make_dm, make_slash_command
from tests.handlers.slack.fake_slack import eventually
from tests.handlers.slack.scenario import early_leaver, nl, text_of


@contextmanager
def a_long_write(engine: Engine) -> Iterator[None]:
    """A transaction that has written and stays open (on SQLite it holds the write lock), as
    an import does while it writes; rolled back at the end."""
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(
            insert(Task).values(
                kind="import", payload={}, due_at=clock.now(), created_at=clock.now()
            )
        )
        try:
            yield
        finally:
            transaction.rollback()


async def test_during_a_long_write_requests_are_acknowledged_and_reads_answered(
    slack: SlackRig,
) -> None:
    case = early_leaver(slack.core, school="kompas", by="joost", home_municipality="Zwolle")
    with a_long_write(slack.core.engine):
        health = await slack.http.get(f"{slack.url}/healthz")
        assert (health.status_code, health.text) == (200, "ok")

        help_url = slack.fake.response_url("help")
        ack = await slack.post(make_slash_command("/help", user="U01WIM", response_url=help_url))
        assert ack.status_code == 200
        cases_url = slack.fake.response_url("cases")
        ack = await slack.post(make_slash_command("/cases", user="U01WIM", response_url=cases_url))
        assert ack.status_code == 200
        ack = await slack.post(make_dm("/help", user="U01FATIMA"))
        assert ack.status_code == 200

        await eventually(lambda: len(slack.fake.responses("help")) == 1)
        assert "/claim REF" in text_of(slack.fake.responses("help")[0])
        await eventually(lambda: len(slack.fake.responses("cases")) == 1)
        assert case.ref in text_of(slack.fake.responses("cases")[0])
        await eventually(
            lambda: any("/claim REF" in text_of(c) for c in slack.fake.posted("D01FATIMA"))
        )

    # once the write ends, what waited for it goes through: a claim, and its message
    claim_url = slack.fake.response_url("claim")
    await slack.post(
        make_slash_command(f"/claim {case.ref}", user="U01WIM", response_url=claim_url)
    )
    await eventually(lambda: len(slack.fake.responses("claim")) == 1)
    assert nl("You now own case {ref}.", ref=case.ref) in text_of(slack.fake.responses("claim")[0])
