"""Each person is reached on one transport, so a ping is never sent on both."""

from __future__ import annotations

from bot.handlers.common.reach import address_on
from bot.store.models import Person

BOTH = frozenset({"slack", "telegram"})


def test_slack_wins_when_both_run_and_telegram_reaches_the_rest() -> None:
    eva = Person(id="eva", name="Eva", slack_id="U01EVA", telegram_id=1006)
    henk = Person(id="henk", name="Henk", telegram_id=1004)
    slack, telegram = address_on("slack", BOTH), address_on("telegram", BOTH)
    assert (slack(eva), telegram(eva)) == ("U01EVA", None)
    assert (slack(henk), telegram(henk)) == (None, "1004")
    assert address_on("telegram", frozenset({"telegram"}))(eva) == "1006"
