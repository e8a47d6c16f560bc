"""Core replies as Telegram messages: escaped HTML, split within Telegram's limits, keyboards
with callback data that fits."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from telegram import Bot
from telegram.constants import ParseMode

from bot.core.replies import Button, Item, Reply
from bot.handlers.telegram import callbacks
from bot.handlers.telegram.render import MAX_CAPTION, MAX_TEXT, TelegramMessage, render
from bot.store.db import session_scope
from tests.handlers.telegram.fake_telegram import FakeTelegram, parse_html, utf16_len

INJECTIONS = ["<b>", "&amp;", '<a href="x">', "</b>", "a & b", "<script>alert(1)</script>"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
USER = 1001


def as_is(action: str) -> str:
    """Callback data for tests of everything but the data: the action itself."""
    return action


def shown(message: TelegramMessage) -> str:
    """What the reader sees: the visible text as Telegram parses the HTML (raises if it
    cannot)."""
    return parse_html(message.text)[0]


def callback_datas(message: TelegramMessage) -> list[str]:
    markup = message.reply_markup
    if markup is None:
        return []
    return [str(b.callback_data) for row in markup.inline_keyboard for b in row]


@pytest.mark.parametrize("name", INJECTIONS)
def test_user_text_shows_literally_everywhere_in_a_reply(name: str) -> None:
    reply = Reply(
        title=f"Case of {name}",
        text=f"Leaver {name} registered",
        fields=[Item(label=f"Name {name}", value=name)],
        lines=[f"{name} — new"],
        buttons=[Button(label=f"Claim {name}", action="claim:K7F2")],
    )
    [message] = render(reply, callback_data=as_is)
    visible, entities = parse_html(message.text)
    assert visible.split("\n") == [
        f"Case of {name}",
        "",
        f"Leaver {name} registered",
        "",
        f"Name {name}: {name}",
        "",
        f"• {name} — new",
    ]
    # only our own bold: the title and the field's label
    assert {e["type"] for e in entities} == {"bold"}
    assert [b.text for row in message.reply_markup.inline_keyboard for b in row] == [
        f"Claim {name}"
    ]


def test_title_and_field_labels_are_bold() -> None:
    reply = Reply(title="Case K7F2", fields=[Item(label="State", value="new")])
    [message] = render(reply, callback_data=as_is)
    visible, entities = parse_html(message.text)
    bold = [visible[e["offset"] : e["offset"] + e["length"]] for e in entities]
    assert bold == ["Case K7F2", "State"]


def test_an_error_is_marked() -> None:
    [message] = render(Reply(text="No such case.", error=True), callback_data=as_is)
    assert shown(message).startswith("⚠️") and "No such case." in shown(message)


def test_sixty_long_lines_are_split_between_lines_into_messages_telegram_accepts() -> None:
    lines = [f"K{n:03d} <b>Zoë & Mo</b> 😀 " + "x" * 150 for n in range(60)]
    reply = Reply(
        title="Leavers <i>",
        lines=lines,
        buttons=[
            Button(label="More", action="leavers:2"),
            Button(label="Add", action="cmd:leaver"),
        ],
    )
    messages = render(reply, callback_data=as_is)
    assert len(messages) > 1
    visible = [shown(m) for m in messages]  # each parses: no chunk is cut inside a tag
    assert all(utf16_len(v) <= MAX_TEXT for v in visible)
    # every line arrives whole, once, in order
    received = [line for v in visible for line in v.split("\n") if line.startswith("•")]
    assert received == [f"• {line}" for line in lines]
    assert visible[0].startswith("Leavers <i>")
    # the buttons come with the last message only
    assert [callback_datas(m) for m in messages[:-1]] == [[]] * (len(messages) - 1)
    assert callback_datas(messages[-1]) == ["leavers:2", "cmd:leaver"]


def test_emoji_count_as_two_units_when_splitting() -> None:
    # 2,100 emoji: 2,100 characters but 4,200 UTF-16 units, so one message cannot hold them
    lines = ["😀" * 700] * 3
    messages = render(Reply(lines=lines), callback_data=as_is)
    assert len(messages) == 2
    assert all(utf16_len(shown(m)) <= MAX_TEXT for m in messages)


def test_a_line_longer_than_a_message_is_split_at_spaces_and_nothing_is_lost() -> None:
    words = [f"w{n}&<{n}>" for n in range(1200)]
    text = " ".join(words)
    messages = render(Reply(title="Notes", text=text), callback_data=as_is)
    visible = [shown(m) for m in messages]
    assert len(visible) > 1 and all(utf16_len(v) <= MAX_TEXT for v in visible)
    assert visible[0].startswith("Notes")
    assert " ".join(visible).split() == ["Notes", *words]


def test_long_and_non_ascii_actions_travel_as_tokens_within_64_bytes(engine: Engine) -> None:
    long_action = "form:choose:Ĳsselmonde-Zuid école Sint-Ëgidius Ŏost Ĳmuiden ü"
    assert len(long_action) <= 64 < len(long_action.encode())
    reply = Reply(
        text="Which school?",
        buttons=[
            Button(label="École", action=long_action),
            Button(label="Back", action="form:back"),
        ],
    )
    with session_scope(engine) as session:
        [message] = render(reply, callback_data=lambda a: callbacks.callback_data(session, a))
    datas = callback_datas(message)
    assert all(1 <= len(d.encode()) <= 64 for d in datas)
    assert datas[1] == "form:back"
    with session_scope(engine) as session:
        assert [callbacks.action_of(session, d) for d in datas] == [long_action, "form:back"]


def test_many_buttons_are_rows_of_a_few_and_over_a_hundred_go_on_to_another_message() -> None:
    buttons = [Button(label=f"K{n}", action=f"case:K{n}") for n in range(130)]
    messages = render(Reply(text="Cases", buttons=buttons), callback_data=as_is)
    assert [len(callback_datas(m)) for m in messages] == [100, 30]
    rows = messages[0].reply_markup.inline_keyboard
    assert all(1 <= len(row) <= 3 for row in rows)
    assert all(shown(m).strip() for m in messages)


def test_a_short_chart_reply_is_one_photo_with_the_text_as_caption() -> None:
    reply = Reply(title="Digest W48", lines=["3 new"], image_png=PNG, image_title="Per town")
    [photo] = render(reply, callback_data=as_is)
    assert photo.photo == PNG
    assert shown(photo) == "Digest W48\n\n• 3 new"


def test_a_long_chart_reply_is_a_photo_with_a_short_caption_and_the_text_after() -> None:
    lines = [f"Municipality {n} <&>: {n} new, {n} overdue" for n in range(60)]
    reply = Reply(
        title="Digest W48",
        lines=lines,
        image_png=PNG,
        image_title="What needs action, <per> municipality",
        buttons=[Button(label="Cases", action="cases:1")],
    )
    photo, *texts = render(reply, callback_data=as_is)
    assert photo.photo == PNG and utf16_len(shown(photo)) <= MAX_CAPTION
    assert shown(photo) == "What needs action, <per> municipality"
    assert texts and all(m.photo is None for m in texts)
    assert [line for m in texts for line in shown(m).split("\n")][2:] == [f"• {x}" for x in lines]
    assert callback_datas(texts[-1]) == ["cases:1"] and callback_datas(photo) == []


async def test_the_real_bot_sends_every_chunk_of_a_long_reply_and_telegram_accepts_it(
    bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_private_chat(USER, "Sanne")
    lines = [f"K{n:03d} <b>Zoë</b> &amp; 😀 " + "y" * 120 for n in range(60)]
    reply = Reply(
        title="Leavers",
        lines=lines,
        buttons=[Button(label="More", action="leavers:2")],
        image_png=PNG,
        image_title="Chart",
    )
    messages = render(reply, callback_data=as_is)
    for message in messages:
        if message.photo is not None:
            await bot.send_photo(
                USER,
                message.photo,
                caption=message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=message.reply_markup,
            )
        else:
            await bot.send_message(
                USER, message.text, parse_mode=ParseMode.HTML, reply_markup=message.reply_markup
            )
    assert fake_telegram.failed() == []
    view = fake_telegram.chat_view(USER)
    assert len(view) == len(messages) > 2
    received = [line for m in view for line in m.text.split("\n") if line.startswith("•")]
    assert received == [f"• {line}" for line in lines]
    assert view[-1].button("More")["callback_data"] == "leavers:2"
