"""`/admin` on Slack: the new-person modal (roles a multi-select, the Slack member a user
select), the directory and privacy requests answered in the coordinator's direct message,
and the refusal for everyone else."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from bot.store.db import session_scope
from bot.store.models import AuditEvent, Person
from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import (
    make_block_action,
    make_dm,
    make_slash_command,
    make_view_submission,
)
from tests.handlers.slack.fake_slack import eventually
from tests.handlers.slack.scenario import (
    REFUSAL,
    buttons_of,
    case_row,
    confirm_of,
    early_leaver,
    nl,
    text_of,
)
from tests.handlers.slack.test_slack_placement import inputs, open_modal


def new_person(slack: SlackRig, person_id: str) -> Person | None:
    with session_scope(slack.core.engine) as session:
        return session.get(Person, person_id)


def chosen(values: list[str]) -> dict[str, Any]:
    return {
        "type": "multi_static_select",
        "selected_options": [
            {"text": {"type": "plain_text", "text": v}, "value": v} for v in values
        ],
    }


async def test_admin_add_opens_the_person_modal_and_saves_the_new_broker(slack: SlackRig) -> None:
    view = await open_modal(slack, "/admin add", user="U01ANNA", trigger="trig-add")
    assert view["callback_id"] == "admin_person_add"
    assert view["title"]["text"] == nl("Add a person")
    fields = inputs(view)
    assert list(fields) == [
        "name",
        "roles",
        "municipality",
        "school",
        "language",
        "slack",
        "teams",
    ]
    assert fields["roles"]["element"]["type"] == "multi_static_select"
    assert fields["slack"]["element"]["type"] == "users_select"
    assert fields["municipality"]["optional"] is True  # needed for a broker: checked on submit
    assert not slack.fake.invalid  # the fake checked the view with slack_sdk's models

    # a broker without a municipality: the modal stays open and says so
    states = {"roles": chosen(["broker"]), "slack": {"type": "users_select", "selected_user": None}}
    bad = await slack.post(
        make_view_submission(view, {"name": "Jan de Vries"}, user="U01ANNA", states=states)
    )
    assert bad.json() == {
        "response_action": "errors",
        "errors": {"municipality": nl("This cannot be empty.")},
    }
    assert new_person(slack, "jan") is None

    states = {
        "roles": chosen(["broker", "coordinator"]),
        "slack": {"type": "users_select", "selected_user": "U07JAN"},
    }
    good = await slack.post(
        make_view_submission(
            view,
            {"name": "Jan de Vries", "municipality": "Kampen", "language": "en"},
            user="U01ANNA",
            states=states,
        )
    )
    assert good.status_code == 200 and good.text == ""
    jan = new_person(slack, "jan")
    assert jan is not None
    assert (jan.roles, jan.municipality_code, jan.slack_id, jan.language) == (
        ["broker", "coordinator"],
        "GM0166",
        "U07JAN",
        "en",
    )
    said = nl(
        "{name} is in the directory now, as {roles} (id {id}).",
        name="Jan de Vries",
        roles=f"{nl('broker')}, {nl('coordinator')}",
        id="jan",
    )
    await eventually(lambda: any(said in text_of(c) for c in slack.fake.posted("D01ANNA")))
    # linked by the Slack user picked: Jan can use Vangnet at once
    url = slack.fake.response_url("jan")
    await slack.post(make_slash_command("/cases", user="U07JAN", response_url=url))
    await eventually(lambda: len(slack.fake.responses("jan")) == 1)
    assert "Your queue" in text_of(slack.fake.responses("jan")[0])


async def test_admin_is_refused_on_slack_to_a_broker_and_no_modal_opens(slack: SlackRig) -> None:
    for n, line in enumerate(["/admin add", "/admin people", "/admin export ABCD"]):
        url = slack.fake.response_url(f"no-{n}")
        await slack.post(make_slash_command(line, user="U01BRAM", response_url=url))
        await eventually(lambda n=n: len(slack.fake.responses(f"no-{n}")) == 1)  # type: ignore[misc]
        assert "/admin is not for your role." in text_of(slack.fake.responses(f"no-{n}")[0])
    assert slack.fake.calls_to("views.open") == []
    assert not [c for c in slack.fake.posted("D01BRAM") if "People" in text_of(c)]


async def test_people_and_a_deactivation_on_slack_go_to_the_direct_message(
    slack: SlackRig,
) -> None:
    await slack.post(make_slash_command("/admin people Kampen", user="U01ANNA"))
    await eventually(
        lambda: any("Bram Bakker (bram)" in text_of(c) for c in slack.fake.posted("D01ANNA"))
    )
    await slack.post(make_slash_command("/admin deactivate lotte", user="U01ANNA"))
    gone = nl(
        "{name} is deactivated: they can no longer use Vangnet. Their history stays.",
        name="Lotte Visser",
    )
    await eventually(lambda: any(gone in text_of(c) for c in slack.fake.posted("D01ANNA")))
    lotte = new_person(slack, "lotte")
    assert lotte is not None and not lotte.active
    url = slack.fake.response_url("lotte")
    await slack.post(make_slash_command("/help", user="U01LOTTE", response_url=url))
    await eventually(lambda: len(slack.fake.responses("lotte")) == 1)
    assert nl(REFUSAL) in text_of(slack.fake.responses("lotte")[0])


async def test_export_is_a_json_file_in_the_direct_message_and_erase_needs_the_button(
    slack: SlackRig,
) -> None:
    case = early_leaver(
        slack.core, school="vaart", by="tim", consent="given", name="Jesse Voorbeeld"
    )
    await slack.post(make_slash_command(f"/admin export {case.ref}", user="U01ANNA"))
    await eventually(lambda: len(slack.fake.calls_to("files.completeUploadExternal")) == 1)
    (complete,) = slack.fake.calls_to("files.completeUploadExternal")
    assert complete.body["channel_id"] == "D01ANNA"
    (upload,) = slack.fake.calls_to("files.upload")
    data = json.loads(upload.body["__raw__"])
    assert (data["ref"], data["name"], data["school_id"]) == (case.ref, "Jesse Voorbeeld", "vaart")
    (asked,) = slack.fake.calls_to("files.getUploadURLExternal")
    assert asked.body["filename"] == f"vangnet-{case.ref}.json"

    await slack.post(make_slash_command(f"/admin erase {case.ref}", user="U01ANNA"))
    erase = f"cmd:admin erase {case.ref} yes"
    await eventually(lambda: any(erase in buttons_of(c) for c in slack.fake.posted("D01ANNA")))
    assert case_row(slack.core, case.ref).name == "Jesse Voorbeeld"
    message = next(c for c in slack.fake.posted("D01ANNA") if erase in buttons_of(c))
    await slack.post(
        make_block_action(
            erase, user="U01ANNA", channel="D01ANNA", action_id=buttons_of(message)[erase]
        )
    )
    await eventually(lambda: case_row(slack.core, case.ref).name is None)
    with session_scope(slack.core.engine) as session:
        actions = [
            e.action
            for e in session.exec(select(AuditEvent).where(AuditEvent.case_ref == case.ref)).all()
        ]
    assert actions[-2:] == ["export", "erase_personal"]


async def dm_says(slack: SlackRig, words: str) -> Any:
    """The latest message in Anna's direct message that shows `words`."""
    await eventually(lambda: any(words in text_of(c) for c in slack.fake.posted("D01ANNA")))
    return [c for c in slack.fake.posted("D01ANNA") if words in text_of(c)][-1]


async def test_the_other_admin_commands_on_slack(slack: SlackRig) -> None:
    """change (the guided form in the direct message), schools, municipalities, facilitator,
    invite and audit: each answered in the coordinator's direct message."""
    await slack.post(make_slash_command("/admin change sara", user="U01ANNA"))
    summary = await dm_says(slack, nl("Is this right?"))
    edit = "form:edit:school"
    await slack.post(make_slash_command("/admin schools", user="U01ANNA"))
    await dm_says(slack, "VSO De Vlinderboom (vlinder)")
    pressed = make_block_action("form:edit", user="U01ANNA", channel="D01ANNA")
    await slack.post(pressed)
    choose = await dm_says(slack, nl("Which answer do you want to change?"))
    await slack.post(
        make_block_action(
            edit, user="U01ANNA", channel="D01ANNA", action_id=buttons_of(choose)[edit]
        )
    )
    await dm_says(slack, nl("At which school? Choose it, or type a word of its name."))
    await slack.post(make_dm("vlinder", user="U01ANNA"))
    await eventually(
        lambda: (
            len([c for c in slack.fake.posted("D01ANNA") if nl("Is this right?") in text_of(c)])
            == 2
        )
    )
    # the newest summary: the first one's Confirm no longer holds (the school changed)
    summary = [c for c in slack.fake.posted("D01ANNA") if nl("Is this right?") in text_of(c)][-1]
    confirm, action_id = confirm_of(summary)
    await slack.post(
        make_block_action(confirm, user="U01ANNA", channel="D01ANNA", action_id=action_id)
    )
    await dm_says(slack, nl("{name} is changed.", name="Sara Smit"))
    sara = new_person(slack, "sara")
    assert sara is not None and sara.school_id == "vlinder"

    await slack.post(make_slash_command("/admin municipalities", user="U01ANNA"))
    await dm_says(slack, "Kampen (GM0166)")
    await slack.post(make_slash_command("/admin facilitator wim", user="U01ANNA"))
    await dm_says(slack, nl("{name} may now run a scan.", name="Wim Jansen"))
    await slack.post(make_slash_command("/admin invite henk", user="U01ANNA"))
    await dm_says(slack, "/start ")
    case = early_leaver(slack.core, school="vaart", by="tim")
    await slack.post(make_slash_command(f"/admin audit {case.ref}", user="U01ANNA"))
    trail = await dm_says(slack, nl("Audit trail of case {ref}", ref=case.ref))
    assert "Tim de Groot (tim)" in text_of(trail)
