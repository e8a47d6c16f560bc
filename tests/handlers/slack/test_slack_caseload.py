"""Real caseloads on Slack (issue 13): /find within the caller's view, filtered lists, the
broker's queue, and /edit as the intake modal filled in with what is known."""

from __future__ import annotations

from typing import Any

from bot.handlers.slack.app import SLASH_COMMANDS
from tests.factories import inbox
from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import make_slash_command, make_view_submission
from tests.handlers.slack.fake_slack import eventually
from tests.handlers.slack.scenario import case_row, early_leaver, nl, text_of


async def ask(slack: SlackRig, line: str, *, user: str, name: str) -> str:
    """Type a slash command; returns the text of the ephemeral answer."""
    url = slack.fake.response_url(name)
    response = await slack.post(make_slash_command(line, user=user, response_url=url))
    assert response.status_code == 200
    await eventually(lambda: len(slack.fake.responses(name)) == 1)
    return text_of(slack.fake.responses(name)[0])


async def test_find_on_slack_never_shows_another_schools_leaver(slack: SlackRig) -> None:
    case = early_leaver(
        slack.core, school="vlinder", by="mila", student_ref="VL-9", consent="given", name="Sem Ek"
    )
    for n, text in enumerate((case.ref, "VL-9", "Sem")):
        answer = await ask(slack, f"/find {text}", user="U01JOOST", name=f"joost-{n}")
        assert "Niets gevonden" in answer and f"case:{case.ref}" not in answer, text
    found = await ask(slack, "/find sem", user="U01MILA", name="mila")
    assert f"case:{case.ref}" in found and "1 case found" in found
    assert "Sem Ek" not in found  # the name is what was typed, not shown back


async def test_the_queue_and_filters_on_slack(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vlinder", by="mila")  # lives in Kampen
    queue = await ask(slack, "/cases", user="U01BRAM", name="queue")
    assert case.ref in queue and "waited 0 working days" in queue
    overdue = await ask(slack, "/cases overdue", user="U01BRAM", name="overdue")
    assert case.ref not in overdue and "Nothing here." in overdue
    zwolle = await ask(slack, "/leavers Zwolle", user="U01ANNA", name="zwolle")
    assert case.ref not in zwolle
    overview = await ask(slack, "/leavers", user="U01ANNA", name="overview")
    assert "Uitstromers per gemeente" in overview and "Kampen: 1 uitstromer" in overview


def filled_in(view: dict[str, Any]) -> dict[str, str]:
    """What the modal shows in its inputs, by block id."""
    values: dict[str, str] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        if element.get("initial_option"):
            values[block["block_id"]] = element["initial_option"]["value"]
        elif element.get("initial_value"):
            values[block["block_id"]] = element["initial_value"]
    return values


async def test_edit_opens_the_modal_filled_in_and_reroutes_on_a_new_home(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vlinder", by="mila", student_ref="VL-3")
    assert inbox(slack.core, "bram", kind="due")
    await slack.post(make_slash_command(f"/edit {case.ref}", user="U01MILA", trigger_id="edit"))
    await eventually(lambda: len(slack.fake.calls_to("views.open")) == 1)
    view = slack.fake.calls_to("views.open")[0].body["view"]
    assert view["callback_id"] == "leaver_edit" and view["private_metadata"] == case.ref
    known = filled_in(view)
    assert known["student_ref"] == "VL-3" and known["home_municipality"] == "GM0166"
    assert known["programme"] == "vso" and known["vso_profile"] == "work"
    changed = known | {"home_municipality": "Zwolle"}
    done = await slack.post(make_view_submission(view, changed, user="U01MILA"))
    assert done.status_code == 200 and done.text == ""
    assert case_row(slack.core, case.ref).responsible_municipality_code == "GM0193"
    assert inbox(slack.core, "bram", kind="rerouted")
    await eventually(
        lambda: any(
            f"Case {case.ref} is corrected" in text_of(c) for c in slack.fake.posted("D01MILA")
        )
    )
    assert not slack.fake.invalid


async def test_edit_on_slack_is_refused_to_others(slack: SlackRig) -> None:
    case = early_leaver(slack.core, school="vlinder", by="mila")
    joost = await ask(slack, f"/edit {case.ref}", user="U01JOOST", name="joost")
    assert nl("There is no case {ref} in your view.", ref=case.ref) in joost  # Joost: Dutch
    bram = await ask(slack, f"/edit {case.ref}", user="U01BRAM", name="bram")
    assert "/edit is not for your role" in bram
    assert slack.fake.calls_to("views.open") == []


def test_the_demo_clock_is_not_a_slack_command() -> None:
    assert "clock" not in SLASH_COMMANDS
