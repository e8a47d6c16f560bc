"""The placement form as a Slack modal: `/placed REF` and the Placement button open it, the
submission is checked with the form's own parsers and recorded the core's way."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.core.i18n import translator
from bot.core.vocab import Destination, label
from bot.store.db import session_scope
from bot.store.models import Case, Task
from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import (
    make_block_action,
    make_slash_command,
    make_view_submission,
)
from tests.handlers.slack.fake_slack import eventually
from tests.handlers.slack.scenario import buttons_of, case_row, early_leaver, nl, text_of


def today() -> date:
    return clock.today(ZoneInfo("Europe/Amsterdam"))


def claimed(core: Core, *, school: str, by: str, broker: str) -> Case:
    case = early_leaver(core, school=school, by=by)
    core.handle_text(person_id=broker, text=f"/claim {case.ref}", transport="slack")
    return case


def followups(core: Core, ref: str) -> list[Task]:
    with session_scope(core.engine) as session:
        return list(
            session.exec(select(Task).where(Task.case_ref == ref, Task.kind == "followup")).all()
        )


async def open_modal(slack: SlackRig, line: str, *, user: str, trigger: str) -> dict[str, Any]:
    url = slack.fake.response_url(trigger)
    response = await slack.post(
        make_slash_command(line, user=user, trigger_id=trigger, response_url=url)
    )
    assert response.status_code == 200
    await eventually(
        lambda: any(c.body["trigger_id"] == trigger for c in slack.fake.calls_to("views.open"))
    )
    opened = next(c for c in slack.fake.calls_to("views.open") if c.body["trigger_id"] == trigger)
    view: dict[str, Any] = opened.body["view"]
    return view


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


async def test_placed_opens_the_placement_modal(slack: SlackRig) -> None:
    case = claimed(slack.core, school="vlinder", by="mila", broker="bram")  # Bram speaks English
    view = await open_modal(slack, f"/placed {case.ref}", user="U01BRAM", trigger="trig-bram")
    assert view["type"] == "modal" and view["callback_id"] == "placement"
    assert view["private_metadata"] == case.ref
    assert view["title"]["text"] == "Placement"
    assert f"Record the placement of case {case.ref} ({case.student_ref})." in json.dumps(view)
    fields = inputs(view)
    assert list(fields) == ["destination", "organisation", "start"]
    destination = fields["destination"]
    assert destination["element"]["type"] == "static_select"
    assert destination["label"]["text"] == "Destination"
    assert not destination.get("optional", False)
    options = {o["value"]: o["text"]["text"] for o in destination["element"]["options"]}
    assert options == {d.value: label(translator("en"), d.value) for d in Destination}
    assert options["none"] == "no work and no school"
    organisation = fields["organisation"]
    assert organisation["element"]["type"] == "plain_text_input"
    assert organisation["optional"] is True
    start = fields["start"]
    assert start["element"]["type"] == "datepicker"
    assert start["element"]["initial_date"] == today().isoformat()
    assert not start.get("optional", False)
    assert slack.fake.responses("trig-bram") == []  # a modal, no answer in the channel
    assert not slack.fake.invalid  # the fake checked the view with slack_sdk's models


async def test_a_bad_date_or_destination_is_shown_in_the_modal_and_changes_nothing(
    slack: SlackRig,
) -> None:
    case = claimed(slack.core, school="vlinder", by="mila", broker="bram")
    view = await open_modal(slack, f"/placed {case.ref}", user="U01BRAM", trigger="trig-bad")
    far = (today() + timedelta(days=800)).isoformat()
    bad = await slack.post(
        make_view_submission(view, {"organisation": "Bakkerij", "start": far}, user="U01BRAM")
    )
    assert bad.status_code == 200
    assert bad.json() == {
        "response_action": "errors",
        "errors": {
            "destination": "This cannot be empty.",
            "start": "Give a start date within a year from today.",
        },
    }
    # a value that is not one of the options (an old or forged modal)
    forged = copy.deepcopy(view)
    select_element = inputs(forged)["destination"]["element"]
    select_element["options"].append(
        {"text": {"type": "plain_text", "text": "Mars"}, "value": "mars"}
    )
    wrong = await slack.post(
        make_view_submission(
            forged, {"destination": "mars", "start": today().isoformat()}, user="U01BRAM"
        )
    )
    errors = wrong.json()["errors"]
    assert list(errors) == ["destination"]
    assert errors["destination"].startswith("Choose one of: work, work with support")
    row = case_row(slack.core, case.ref)
    assert (row.state, row.destination, row.placement_start) == ("claimed", None, None)
    assert followups(slack.core, case.ref) == []


async def test_a_good_submission_places_the_case_and_confirms_in_the_direct_message(
    slack: SlackRig,
) -> None:
    case = claimed(slack.core, school="vlinder", by="mila", broker="bram")
    view = await open_modal(slack, f"/placed {case.ref}", user="U01BRAM", trigger="trig-good")
    start = today() + timedelta(days=7)
    answers = {
        "destination": "work",
        "organisation": "Bakkerij  De Korf",
        "start": start.isoformat(),
    }
    good = await slack.post(make_view_submission(view, answers, user="U01BRAM"))
    assert good.status_code == 200 and good.text == ""  # the modal closes
    row = case_row(slack.core, case.ref)
    assert (row.state, row.destination, row.placement_org, row.placement_start) == (
        "placed",
        "work",
        "Bakkerij De Korf",
        start,
    )
    (task,) = followups(slack.core, case.ref)
    assert task.payload == {"n": 0} and task.done_at is None
    recorded = f"The placement of case {case.ref} is recorded. I will ask you about it on"
    await eventually(lambda: any(recorded in text_of(c) for c in slack.fake.posted("D01BRAM")))
    assert not slack.fake.invalid


async def test_the_organisation_is_ignored_when_the_destination_has_none(slack: SlackRig) -> None:
    case = claimed(slack.core, school="vlinder", by="mila", broker="bram")
    view = await open_modal(slack, f"/placed {case.ref}", user="U01BRAM", trigger="trig-moved")
    answers = {"destination": "moved_away", "organisation": "x" * 300, "start": today().isoformat()}
    good = await slack.post(make_view_submission(view, answers, user="U01BRAM"))
    assert good.status_code == 200 and good.text == ""
    row = case_row(slack.core, case.ref)
    assert (row.state, row.destination, row.placement_org) == ("placed", "moved_away", None)


async def test_the_placement_button_opens_the_modal_in_the_persons_language(
    slack: SlackRig,
) -> None:
    case = claimed(slack.core, school="vaart", by="tim", broker="wim")  # Wim speaks Dutch
    url = slack.fake.response_url("card")
    await slack.post(make_slash_command(f"/case {case.ref}", user="U01WIM", response_url=url))
    await eventually(lambda: len(slack.fake.responses("card")) == 1)
    buttons = buttons_of(slack.fake.responses("card")[0])
    assert f"placed:{case.ref}" in buttons
    await slack.post(
        make_block_action(
            f"placed:{case.ref}",
            user="U01WIM",
            channel="C0NETWERK",
            response_url=url,
            action_id=buttons[f"placed:{case.ref}"],
            trigger_id="trig-button",
        )
    )
    await eventually(lambda: len(slack.fake.calls_to("views.open")) == 1)
    (opened,) = slack.fake.calls_to("views.open")
    assert opened.body["trigger_id"] == "trig-button"
    view = opened.body["view"]
    fields = inputs(view)
    assert view["title"]["text"] == nl("Placement")
    assert fields["destination"]["label"]["text"] == nl("Destination")
    assert fields["start"]["label"]["text"] == nl("Start date")
    options = {o["value"]: o["text"]["text"] for o in fields["destination"]["element"]["options"]}
    assert options["moved_away"] == nl("moved away")
    far = (today() - timedelta(days=400)).isoformat()
    bad = await slack.post(
        make_view_submission(view, {"destination": "work", "start": far}, user="U01WIM")
    )
    assert bad.json()["errors"] == {"start": nl("Give a start date within a year from today.")}
    good = await slack.post(
        make_view_submission(
            view, {"destination": "further_education", "start": today().isoformat()}, user="U01WIM"
        )
    )
    assert good.text == ""
    assert case_row(slack.core, case.ref).state == "placed"
    assert len(followups(slack.core, case.ref)) == 1
    assert len(slack.fake.responses("card")) == 1  # nothing said in the channel
    assert not slack.fake.invalid


async def test_a_non_owner_gets_the_refusal_ephemerally_and_no_modal(slack: SlackRig) -> None:
    case = claimed(slack.core, school="vaart", by="tim", broker="fatima")
    url = slack.fake.response_url("not-mine")
    await slack.post(make_slash_command(f"/placed {case.ref}", user="U01WIM", response_url=url))
    await eventually(lambda: len(slack.fake.responses("not-mine")) == 1)
    (answer,) = slack.fake.responses("not-mine")
    assert answer.body["response_type"] == "ephemeral"
    refusal = nl("Only the owner of case {ref} can record its placement.", ref=case.ref)
    assert refusal in text_of(answer)
    assert slack.fake.calls_to("views.open") == []
    assert case_row(slack.core, case.ref).state == "claimed"


async def test_a_case_not_claimed_cannot_be_placed_and_no_modal_opens(slack: SlackRig) -> None:
    due = early_leaver(slack.core, school="vaart", by="tim")  # nobody owns it yet
    url = slack.fake.response_url("due")
    await slack.post(
        make_block_action(f"placed:{due.ref}", user="U01WIM", channel="C0NETWERK", response_url=url)
    )
    await eventually(lambda: len(slack.fake.responses("due")) == 1)
    (answer,) = slack.fake.responses("due")
    assert answer.body["response_type"] == "ephemeral"
    refusal = nl("Only the owner of case {ref} can record its placement.", ref=due.ref)
    assert refusal in text_of(answer)

    placed = claimed(slack.core, school="vaart", by="tim", broker="wim")
    slack.core.handle_text(person_id="wim", text=f"/placed {placed.ref}", transport="slack")
    for line in ("werk", "Bakkerij", "vandaag"):
        slack.core.handle_text(person_id="wim", text=line, transport="slack")
    slack.core.handle_action(person_id="wim", action="form:confirm", transport="slack")
    assert case_row(slack.core, placed.ref).state == "placed"
    url = slack.fake.response_url("again")
    await slack.post(make_slash_command(f"/placed {placed.ref}", user="U01WIM", response_url=url))
    await eventually(lambda: len(slack.fake.responses("again")) == 1)
    t = translator("nl")
    refusal = t("Case {ref} is already {state}.", ref=placed.ref, state=t("placed"))
    assert refusal in text_of(slack.fake.responses("again")[0])

    url = slack.fake.response_url("usage")
    await slack.post(make_slash_command("/placed", user="U01WIM", response_url=url))
    await eventually(lambda: len(slack.fake.responses("usage")) == 1)
    assert nl("Which case? Use: {usage}", usage="/placed REF") in text_of(
        slack.fake.responses("usage")[0]
    )
    assert slack.fake.calls_to("views.open") == []


async def test_a_submission_for_a_case_that_changed_meanwhile_is_refused_in_the_dm(
    slack: SlackRig,
) -> None:
    case = claimed(slack.core, school="vlinder", by="mila", broker="bram")
    view = await open_modal(slack, f"/placed {case.ref}", user="U01BRAM", trigger="trig-late")
    slack.core.handle_text(person_id="bram", text=f"/lost {case.ref}", transport="slack")
    answers = {"destination": "work", "start": today().isoformat()}
    late = await slack.post(make_view_submission(view, answers, user="U01BRAM"))
    assert late.status_code == 200 and late.text == ""
    assert case_row(slack.core, case.ref).state == "lost"
    assert followups(slack.core, case.ref) == []
    refused = f"Case {case.ref} is lost; you can only record a placement when it is claimed."
    await eventually(lambda: any(refused in text_of(c) for c in slack.fake.posted("D01BRAM")))
