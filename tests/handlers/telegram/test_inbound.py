"""Telegram updates as typed inbound events, from updates as Telegram sends them."""

from __future__ import annotations

import logging

import pytest
from telegram import Update

from bot.handlers.telegram.inbound import (
    CallbackPress,
    DocumentShared,
    GroupMessage,
    PrivateMessage,
    StartWithPayload,
    Unsupported,
    translate,
)
from tests.handlers.telegram.factories import (
    BOT,
    callback_query,
    document_message,
    group_chat,
    group_message,
    message_in,
    my_chat_member,
    private_message,
    start_with_payload,
    update,
    user,
)
from tests.handlers.telegram.fake_telegram import BOT_USERNAME

USER = 1001
GROUP = -1001234567890


def tr(raw: dict) -> object:
    return translate(raw, bot_username=BOT_USERNAME)


def test_a_private_line_is_a_private_message_in_the_persons_language() -> None:
    event = tr(private_message(USER, "  Jansen  ", language_code="en"))
    assert event == PrivateMessage(user_id=USER, chat_id=USER, text="Jansen", language_code="en")
    assert event.command is None


def test_a_private_command_with_or_without_our_suffix() -> None:
    plain = tr(private_message(USER, "/claim K7F2"))
    suffixed = tr(private_message(USER, f"/claim@{BOT_USERNAME.upper()} K7F2"))
    for event in (plain, suffixed):
        assert isinstance(event, PrivateMessage)
        assert event.text == "/claim K7F2" and event.command == "claim"


def test_a_group_command_with_our_suffix_is_a_group_message() -> None:
    event = tr(group_message(GROUP, USER, "/help", mention_bot=True))
    assert event == GroupMessage(
        user_id=USER, chat_id=GROUP, chat_type="supergroup", text="/help", language_code="nl"
    )
    assert event.command == "help"
    assert tr(group_message(GROUP, USER, "/leavers 2", kind="group")).chat_type == "group"


def test_a_command_for_another_bot_and_group_chatter_are_not_ours() -> None:
    other = tr(group_message(GROUP, USER, "/help@some_other_bot"))
    chatter = tr(group_message(GROUP, USER, "Goedemorgen allemaal"))
    assert other == Unsupported("message", "a command for another bot")
    assert isinstance(chatter, Unsupported) and "group" in chatter.reason


def test_a_start_link_carries_its_token() -> None:
    assert tr(start_with_payload(USER, "inv_AbC-123")) == StartWithPayload(
        user_id=USER, chat_id=USER, token="inv_AbC-123", language_code="nl"
    )
    # a bare /start is a command like any other; a payload Telegram never sends is no token
    assert tr(private_message(USER, "/start")).command == "start"
    assert isinstance(tr(private_message(USER, "/start <b>x</b>")), PrivateMessage)


def test_a_pressed_button_in_the_private_chat_and_in_a_group() -> None:
    raw = callback_query(USER, "claim:K7F2")
    event = tr(raw)
    assert event == CallbackPress(
        user_id=USER,
        chat_id=USER,
        message_id=raw["callback_query"]["message"]["message_id"],
        data="claim:K7F2",
        callback_query_id=raw["callback_query"]["id"],
        in_private=True,
        language_code="nl",
    )
    in_group = tr(callback_query(USER, "case:K7F2", chat=group_chat(GROUP)))
    assert isinstance(in_group, CallbackPress) and not in_group.in_private
    assert in_group.chat_id == GROUP


def test_a_press_we_cannot_use_is_unsupported_but_keeps_its_query_id_to_answer() -> None:
    raw = callback_query(USER, "x")
    del raw["callback_query"]["data"]
    raw["callback_query"]["game_short_name"] = "game"
    event = tr(raw)
    assert isinstance(event, Unsupported)
    assert event.callback_query_id == raw["callback_query"]["id"]
    inline = callback_query(USER, "claim:K7F2")
    del inline["callback_query"]["message"]
    inline["callback_query"]["inline_message_id"] = "AAA"
    assert tr(inline).callback_query_id == inline["callback_query"]["id"]


def test_a_document_in_the_private_chat() -> None:
    raw = document_message(USER, "BQACAgQ1", "leerlingen.csv", "text/csv", 2048)
    event = tr(raw)
    assert event == DocumentShared(
        user_id=USER,
        chat_id=USER,
        file_id="BQACAgQ1",
        file_name="leerlingen.csv",
        mime_type="text/csv",
        file_size=2048,
        language_code="nl",
    )
    excel = tr(document_message(USER, "BQ2", "lijst.xlsx", "application/vnd.ms-excel", 10))
    assert isinstance(excel, DocumentShared) and excel.file_name == "lijst.xlsx"


def test_a_document_in_a_group_is_not_taken() -> None:
    event = tr(document_message(USER, "BQ3", "leerlingen.csv", chat=group_chat(GROUP)))
    assert isinstance(event, Unsupported) and "private" in event.reason


def test_a_strangers_update_translates_like_anyones() -> None:
    """Who is in the directory is decided above; the event just says who wrote."""
    event = tr(private_message(99_999, "/help", first_name="Onbekend", language_code=None))
    assert event == PrivateMessage(user_id=99_999, chat_id=99_999, text="/help")


def test_ptb_update_to_dict_translates_like_the_raw_json() -> None:
    raw = callback_query(USER, "claim:K7F2")
    assert tr(Update.de_json(raw, None).to_dict()) == tr(raw)
    raw = group_message(GROUP, USER, "/help", mention_bot=True)
    assert tr(Update.de_json(raw, None).to_dict()) == tr(raw)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (my_chat_member(GROUP, USER), "my_chat_member"),
        (
            update(edited_message=message_in({"id": USER, "type": "private"}, user(USER), "x")),
            "edited_message",
        ),
        (
            update(message=message_in(group_chat(GROUP), user(USER), None, sticker={})),
            "message",
        ),
        (update(message=message_in({"id": USER, "type": "private"}, BOT, "/help")), "message"),
        (
            update(channel_post={"message_id": 1, "chat": {"id": -100, "type": "channel"}}),
            "channel_post",
        ),
        (
            update(
                message={
                    "message_id": 1,
                    "chat": {"id": GROUP, "type": "supergroup"},
                    "text": "/help",
                }
            ),
            "message",
        ),
        (update(message={"message_id": 1, "from": user(USER), "text": "/help"}), "message"),
        ({"update_id": 1}, "empty"),
    ],
)
def test_what_the_bot_does_not_use_is_unsupported_and_logged(
    raw: dict, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.handlers.telegram.inbound"):
        event = tr(raw)
    assert isinstance(event, Unsupported) and event.kind == kind
    assert f"unsupported {kind}" in caplog.text
