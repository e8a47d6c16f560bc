"""A leaver from outside the region on Slack (issue 13): the case card reaches the
coordinator's direct messages with a button to hand it over, no broker's; /transfer REF buiten
CONTACT closes it for the region and tells the school who took over."""

from __future__ import annotations

from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import make_block_action, make_slash_command
from tests.handlers.slack.fake_slack import eventually
from tests.handlers.slack.scenario import buttons_of, case_row, early_leaver, nl, text_of

CONTACT = "Jeugdteam Utrecht-West, Sanne Vos, 030 555 0199"


async def test_the_coordinator_gets_the_card_and_hands_the_case_over(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vaart", by="tim", home_municipality="Utrecht")

    await eventually(lambda: len(slack.fake.posted("D01ANNA")) == 1)
    (card,) = slack.fake.posted("D01ANNA")
    intro = nl(
        "Case {ref}: the young person lives in {municipality}, outside the region. Hand it "
        "over to that region: /transfer {ref} outside followed by who there takes it over.",
        ref=case.ref,
        municipality="Utrecht",
    )
    assert intro in text_of(card)
    buttons = buttons_of(card)
    assert f"outside:{case.ref}" in buttons and f"claim:{case.ref}" not in buttons
    assert slack.fake.posted("D01WIM") == [] and slack.fake.posted("D01FATIMA") == []

    await slack.post(
        make_block_action(
            f"outside:{case.ref}",
            user="U01ANNA",
            channel="D01ANNA",
            action_id=buttons[f"outside:{case.ref}"],
        )
    )
    ask = nl(
        "Who in {municipality} takes case {ref} over? Type /transfer {ref} outside followed "
        "by their name, organisation and phone number or e-mail address.",
        municipality="Utrecht",
        ref=case.ref,
    )
    await eventually(lambda: any(ask in text_of(c) for c in slack.fake.calls))

    url = slack.fake.response_url("handover")
    await slack.post(
        make_slash_command(
            f"/transfer {case.ref} buiten {CONTACT}", user="U01ANNA", response_url=url
        )
    )
    await eventually(lambda: len(slack.fake.responses("handover")) == 1)
    done = nl(
        "Case {ref} is handed over to {municipality} ({contact}) and closed for this region.",
        ref=case.ref,
        municipality="Utrecht",
        contact=CONTACT,
    )
    assert done in text_of(slack.fake.responses("handover")[0])
    row = case_row(slack.core, case.ref)
    assert (row.state, row.handed_over_to) == ("closed", CONTACT)

    told = nl(
        "The young person of case {ref} ({student}) lives outside the region and was "
        "handed over to "
        "{municipality}: {contact}.",
        ref=case.ref,
        student=case.student_ref,
        municipality="Utrecht",
        contact=CONTACT,
    )
    await eventually(lambda: any(told in text_of(c) for c in slack.fake.posted("D01TIM")))
