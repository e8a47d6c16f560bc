"""Recorded Slack payloads through the inbound table: a typed event, or Unsupported — never None."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import pytest

from bot.handlers.slack import inbound
from bot.handlers.slack.inbound import (
    ButtonPress,
    DirectMessage,
    FormSubmission,
    HomeOpened,
    SlashCommand,
    Unsupported,
    translate,
)
from tests.handlers.slack.factories import FIXTURES, fixture, make_slash_command


def test_a_slash_command_form_body() -> None:
    event = translate(fixture("slash_command"))
    assert event == SlashCommand(
        user="U01WIM",
        command="/claim",
        text="K7F2",
        channel="C0NETWERK",
        response_url="https://hooks.slack.com/commands/T0VANGNET/1234567890/abcdefABCDEF",
        trigger_id="13345224609.738474920.8088930838d88f008e0",
    )
    assert event.line == "/claim K7F2" and event.name == "claim"


def test_the_factory_makes_what_slack_sends() -> None:
    body = {
        k: v[0]
        for k, v in parse_qs(
            make_slash_command("/transfer K7F2 Kampen moved", user="U01BRAM").body,
            keep_blank_values=True,
        ).items()
    }
    event = translate(body)
    assert isinstance(event, SlashCommand)
    assert (event.user, event.line) == ("U01BRAM", "/transfer K7F2 Kampen moved")


def test_a_button_in_a_direct_message() -> None:
    event = translate(fixture("block_actions"))
    assert event == ButtonPress(
        user="U01BRAM",
        action="claim:K7F2",
        trigger_id="13345224609.738474920.8088930838d88f008e1",
        channel="D0BRAM",
        response_url="https://hooks.slack.com/actions/T0VANGNET/1234567890/abcdefABCDEF",
    )


def test_a_button_in_an_ephemeral_answer_in_a_direct_message_between_two_people() -> None:
    event = translate(fixture("block_actions_ephemeral_dm"))
    assert isinstance(event, ButtonPress)
    assert (event.action, event.channel) == ("claim:K7F2", "D0BRAMWIM")
    assert event.response_url == "https://hooks.slack.com/actions/T0VANGNET/1234567891/bcdefaBCDEFA"


def test_a_button_in_the_app_home_has_no_channel() -> None:
    event = translate(fixture("block_actions_home"))
    assert isinstance(event, ButtonPress)
    assert (event.action, event.channel, event.response_url) == ("case:K7F2", None, None)


def test_a_modal_submission_gives_text_and_chosen_values() -> None:
    event = translate(fixture("view_submission"))
    assert isinstance(event, FormSubmission)
    assert event.user == "U01TIM" and event.callback_id == "leaver"
    assert event.values["student_ref"] == "JB-17"
    assert event.values["programme"] == "entree"
    assert event.values["expected_exit"] == "juni 2027"
    assert event.values["consent"] == "" and event.values["notes"] == ""


def test_a_picked_date_is_read_from_a_datepicker() -> None:
    body = fixture("view_submission")
    body["view"]["callback_id"] = "placement"
    body["view"]["private_metadata"] = "K7F2"
    body["view"]["state"]["values"] = {
        "destination": {"destination": {"type": "static_select", "selected_option": None}},
        "start": {"start": {"type": "datepicker", "selected_date": "2027-02-01"}},
    }
    event = translate(body)
    assert isinstance(event, FormSubmission)
    assert event.private_metadata == "K7F2"
    assert event.values == {"destination": "", "start": "2027-02-01"}
    body["view"]["state"]["values"]["start"]["start"]["selected_date"] = None
    empty = translate(body)
    assert isinstance(empty, FormSubmission) and empty.values["start"] == ""


def test_an_input_of_a_type_we_do_not_know_is_named_not_dropped() -> None:
    body = fixture("view_submission")
    body["view"]["state"]["values"]["notes"]["notes"] = {"type": "rich_text_input"}
    event = translate(body)
    assert isinstance(event, FormSubmission)
    assert event.unreadable == ("notes",)
    assert "notes" not in event.values and event.values["student_ref"] == "JB-17"


def test_app_home_opened() -> None:
    assert translate(fixture("app_home_opened")) == HomeOpened(user="U01WIM")
    messages_tab = fixture("app_home_opened")
    messages_tab["event"]["tab"] = "messages"
    assert isinstance(translate(messages_tab), Unsupported)


def test_a_direct_message_and_one_with_a_csv_file() -> None:
    assert translate(fixture("message_im")) == DirectMessage(
        user="U01TIM", channel="D0TIM", text="hallo"
    )
    event = translate(fixture("message_im_file_share"))
    assert isinstance(event, DirectMessage)
    (shared,) = event.files
    assert shared.filetype == "csv" and shared.name == "leerlingen.csv" and shared.size == 212
    assert shared.url_private.endswith("/download/leerlingen.csv")


def test_what_slack_escaped_in_typed_text_is_decoded_once() -> None:
    # typed: Bakker & Zn <Kampen> &lt;  (a typed "&lt;" arrives as "&amp;lt;")
    sent = "Bakker &amp; Zn &lt;Kampen&gt; &amp;lt;"
    body = fixture("message_im")
    body["event"]["text"] = sent
    assert translate(body) == DirectMessage(
        user="U01TIM", channel="D0TIM", text="Bakker & Zn <Kampen> &lt;"
    )
    command = translate(fixture("slash_command") | {"text": "K7F2 Kampen " + sent})
    assert isinstance(command, SlashCommand)
    assert command.text == "K7F2 Kampen Bakker & Zn <Kampen> &lt;"


def test_a_slack_connect_file_comes_without_an_address() -> None:
    event = translate(fixture("message_im_connect_file_share"))
    assert isinstance(event, DirectMessage)
    (shared,) = event.files
    assert (shared.id, shared.url_private) == ("F0CONNECT", None)


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        ("message_changed", {}, "subtype message_changed"),
        ("message_im", {"bot_id": "B0VANGNET"}, "from a bot"),
        ("message_im", {"user": "USLACKBOT"}, "from Slackbot"),
        ("message_im", {"channel_type": "channel"}, "not in a direct message"),
        ("url_verification", None, "no translator"),
        ("block_actions", {"actions": []}, "malformed: missing actions"),
        ("slash_command", {"user_id": None}, "malformed: missing user_id"),
    ],
)
def test_what_we_do_not_handle_is_unsupported_and_logged(
    name: str, change: dict[str, object] | None, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = fixture(name)
    if change is not None:
        target = body["event"] if "event" in body and name.startswith("message") else body
        for key, value in change.items():
            if value is None:
                target.pop(key)
            else:
                target[key] = value
    with caplog.at_level(logging.INFO, logger="bot.handlers.slack.inbound"):
        outcome = translate(body)
    assert isinstance(outcome, Unsupported)
    assert outcome.reason == reason
    assert reason in caplog.text


def test_another_apps_select_menu_is_not_our_button() -> None:
    body = fixture("block_actions")
    body["actions"][0] = {"type": "static_select", "action_id": "x", "selected_option": {}}
    assert isinstance(translate(body), Unsupported)


def test_every_recorded_payload_gets_an_answer() -> None:
    for path in sorted(FIXTURES.glob("*.json")):
        assert translate(fixture(path.stem)) is not None
    assert set(inbound.TRANSLATORS) == {
        "slash_command",
        "block_actions",
        "view_submission",
        "event:app_home_opened",
        "event:message",
    }
