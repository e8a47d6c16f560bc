"""Issue 22 on Slack: a leaver of a municipality without a broker reaches the coordinator at
once; a leaving broker's cases are handed over in one step from `/admin deactivate`."""

from __future__ import annotations

from typing import Any

from tests.factories import press, say
from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import make_block_action, make_slash_command
from tests.handlers.slack.fake_slack import eventually
from tests.handlers.slack.scenario import buttons_of, case_row, early_leaver, nl, text_of


async def said(slack: SlackRig, channel: str, words: str) -> Any:
    """The latest message in `channel` that shows `words`."""
    await eventually(lambda: any(words in text_of(c) for c in slack.fake.posted(channel)))
    return [c for c in slack.fake.posted(channel) if words in text_of(c)][-1]


async def test_a_leaver_without_a_broker_reaches_the_coordinator_at_once(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vaart", by="tim", home_municipality="Zwartewaterland")
    intro = nl(
        "Case {ref} has nobody to claim it: {municipality} has no broker yet. Transfer it to "
        "a broker: /transfer {ref} MUNICIPALITY-or-@person.",
        ref=case.ref,
        municipality="Zwartewaterland",
    )
    card = await said(slack, "D01ANNA", intro)
    buttons = buttons_of(card)
    assert f"transfer:{case.ref}" in buttons and f"claim:{case.ref}" not in buttons
    await slack.post(
        make_block_action(
            f"transfer:{case.ref}",
            user="U01ANNA",
            channel="D01ANNA",
            action_id=buttons[f"transfer:{case.ref}"],
        )
    )
    none_yet = nl("No broker yet (not offered): {names}.", names="|").split("|")[0]
    choices = await said(slack, "D01ANNA", none_yet)
    offered = buttons_of(choices)
    assert f"transfer:{case.ref}:GM0193" in offered  # Zwolle has brokers
    assert f"transfer:{case.ref}:GM0244" not in offered  # Hattem has none
    await slack.post(
        make_block_action(
            f"transfer:{case.ref}:GM0193",
            user="U01ANNA",
            channel="D01ANNA",
            action_id=offered[f"transfer:{case.ref}:GM0193"],
        )
    )
    await eventually(
        lambda: case_row(slack.core, case.ref).responsible_municipality_code == "GM0193"
    )
    await said(slack, "D01WIM", case.ref)


async def test_deactivating_a_broker_hands_a_placed_case_over_in_one_step(slack: SlackRig) -> None:
    core = slack.core
    case = early_leaver(core, school="brug", by="sara")
    say(core, "wim", f"/claim {case.ref}")
    say(core, "wim", f"/placed {case.ref}")
    for answer in ("werk", "Bakkerij Jansen", "1-12-2026"):
        say(core, "wim", answer)
    press(core, "wim", "form:confirm")
    assert case_row(core, case.ref).state == "placed"

    url = slack.fake.response_url("deactivate")
    await slack.post(make_slash_command("/admin deactivate wim", user="U01ANNA", response_url=url))
    title = nl("{name} still has open cases", name="Wim Jansen")
    await eventually(lambda: any(title in text_of(c) for c in slack.fake.responses("deactivate")))
    [listed] = [c for c in slack.fake.responses("deactivate") if title in text_of(c)]
    to_fatima = "cmd:admin deactivate wim to fatima"
    buttons = buttons_of(listed)
    assert to_fatima in buttons and f"transfer:{case.ref}" in buttons
    await slack.post(
        make_block_action(
            to_fatima, user="U01ANNA", channel="D01ANNA", action_id=buttons[to_fatima]
        )
    )
    ask = await said(slack, "D01ANNA", "Fatima El Amrani")
    confirm = f"{to_fatima} yes"
    assert confirm in buttons_of(ask)
    await slack.post(
        make_block_action(
            confirm, user="U01ANNA", channel="D01ANNA", action_id=buttons_of(ask)[confirm]
        )
    )
    await said(
        slack,
        "D01ANNA",
        nl(
            "{name} is deactivated: they can no longer use Vangnet. Their history stays.",
            name="Wim Jansen",
        ),
    )
    row = case_row(core, case.ref)
    assert (row.state, row.owner_id) == ("placed", "fatima")
    handed = nl(
        "{name} handed case {ref} over to you; it stays {state}.",
        name="Anna de Vries",
        ref=case.ref,
        state=nl("placed"),
    )
    await said(slack, "D01FATIMA", handed)
