"""The fake Bot API answers python-telegram-bot like Telegram does."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, CommandHandler, ContextTypes

from tests.handlers.telegram.conftest import telegram_bot
from tests.handlers.telegram.factories import (
    callback_query,
    document_message,
    group_message,
    private_message,
    start_with_payload,
)
from tests.handlers.telegram.fake_telegram import FakeTelegram, eventually, parse_html, post_webhook

USER = 1001
GROUP = -1001234567890
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def chats(fake_telegram: FakeTelegram) -> FakeTelegram:
    fake_telegram.add_private_chat(USER, "Sanne")
    fake_telegram.add_group(GROUP, "Netwerk Vangnet")
    return fake_telegram


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons)])


async def test_a_valid_html_message_is_shown_without_its_tags(bot: Bot, chats: FakeTelegram):
    markup = keyboard(InlineKeyboardButton("Oppakken", callback_data="claim:12"))
    sent = await bot.send_message(
        USER, "<b>Nieuw</b> &amp; <i>dringend</i>", parse_mode=ParseMode.HTML, reply_markup=markup
    )
    assert sent.text == "Nieuw & dringend"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 5),
        ("italic", 8, 8),
    ]
    [record] = chats.sent_messages(USER)
    assert record.text == "Nieuw & dringend"
    assert record.source == "<b>Nieuw</b> &amp; <i>dringend</i>"
    assert record.button("Oppakken")["callback_data"] == "claim:12"
    assert record.message_id == sent.message_id


async def test_text_is_limited_to_4096_visible_utf16_units(bot: Bot, chats: FakeTelegram):
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    await bot.send_message(USER, "&lt;" * 4096, parse_mode=ParseMode.HTML)
    await bot.send_message(USER, "😀" * 2048)  # two UTF-16 units each
    for too_long in ("a" * 4097, "😀" * 2048 + "a"):
        with pytest.raises(BadRequest, match=r"(?i)Message is too long"):
            await bot.send_message(USER, too_long)
    assert len(chats.sent_messages(USER)) == 3


async def test_captions_are_limited_to_1024(bot: Bot, chats: FakeTelegram):
    await bot.send_photo(USER, PNG, caption="c" * 1024)
    with pytest.raises(BadRequest, match=r"(?i)Message caption is too long"):
        await bot.send_photo(USER, PNG, caption="c" * 1025)


@pytest.mark.parametrize(
    "text",
    [
        "<b>x",
        "<foo>x</foo>",
        "Jansen & Zn",
        "a < b",
        "<b>x</i>",
        "x</b>",
        "<span>x</span>",
        "&nbsp;",
    ],
)
async def test_html_telegram_cannot_parse_is_refused(bot: Bot, chats: FakeTelegram, text: str):
    with pytest.raises(BadRequest, match=r"(?i)Can't parse entities"):
        await bot.send_message(USER, text, parse_mode=ParseMode.HTML)
    assert chats.sent_messages() == []
    # as plain text the same is fine
    await bot.send_message(USER, text)


async def test_empty_text_is_refused(bot: Bot, chats: FakeTelegram):
    for text in ("", "   ", "<b></b>"):
        with pytest.raises(BadRequest, match=r"(?i)Message text is empty"):
            await bot.send_message(USER, text, parse_mode=ParseMode.HTML)


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, chats: FakeTelegram):
    await bot.send_message(
        USER, "ok", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="é" * 32))
    )
    for data in ("x" * 65, "é" * 33):
        with pytest.raises(BadRequest, match=r"(?i)Button_data_invalid"):
            await bot.send_message(
                USER,
                "te lang",
                reply_markup=keyboard(InlineKeyboardButton("a", callback_data=data)),
            )


async def test_malformed_keyboards_are_refused(bot: Bot, chats: FakeTelegram):
    with pytest.raises(BadRequest, match=r"(?i)Text buttons are unallowed"):
        await bot.send_message(
            USER, "x", reply_markup=keyboard(InlineKeyboardButton("alleen tekst"))
        )
    flat: Any = {"inline_keyboard": [{"text": "a", "callback_data": "a"}]}
    with pytest.raises(BadRequest, match=r"(?i)Can't parse inline keyboard button"):
        await bot.send_message(USER, "x", reply_markup=flat)
    both: Any = {"inline_keyboard": [[{"text": "a", "callback_data": "a", "url": "https://x.nl"}]]}
    with pytest.raises(BadRequest, match=r"(?i)exactly one"):
        await bot.send_message(USER, "x", reply_markup=both)
    with pytest.raises(BadRequest, match=r"(?i)Wrong HTTP URL"):
        await bot.send_message(
            USER, "x", reply_markup=keyboard(InlineKeyboardButton("a", url="javascript:alert(1)"))
        )
    assert chats.sent_messages() == []


async def test_429_surfaces_as_retry_after(bot: Bot, chats: FakeTelegram):
    chats.fail("sendMessage", times=1, status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "eerste poging")
    assert caught.value.retry_after == dt.timedelta(seconds=3)
    await bot.send_message(USER, "tweede poging")
    assert [m.text for m in chats.sent_messages(USER)] == ["tweede poging"]
    assert [c.status for c in chats.calls_to("sendMessage", ok_only=False)] == [429, 200]


async def test_wrong_token_unknown_method_and_strangers(fake_telegram: FakeTelegram, bot: Bot):
    wrong = telegram_bot(fake_telegram, token="123:wrong")
    try:
        with pytest.raises(InvalidToken, match="rejected"):
            await wrong.initialize()
    finally:
        await wrong.shutdown()
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{fake_telegram.base_url}{fake_telegram.token}/sendTelepathy")
    assert answer.status_code == 404
    assert answer.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    # a user seen in a group but who never opened the bot cannot be written to privately
    fake_telegram.push_update(group_message(GROUP, 2002, "/claim 12"))
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(2002, "hallo")
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(-100999, "hallo")
    await bot.send_message(GROUP, "in de groep mag het")
    fake_telegram.block(USER)
    fake_telegram.add_private_chat(USER)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(USER, "hallo")


async def test_get_me_and_commands(bot: Bot, fake_telegram: FakeTelegram):
    me = await bot.get_me()
    assert me.username == "vangnet_test_bot"
    assert bot.username == "vangnet_test_bot"
    await bot.set_my_commands([BotCommand("start", "Beginnen"), BotCommand("claim", "Oppakken")])
    await bot.set_my_commands([BotCommand("start", "Begin")], language_code="en")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "claim"]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Begin"]
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Claim-Now", "x")])
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_long_polling_returns_a_pushed_update(bot: Bot, fake_telegram: FakeTelegram):
    assert await bot.get_updates(timeout=0) == ()
    polling = asyncio.create_task(bot.get_updates(timeout=5))
    await eventually(lambda: fake_telegram.polls_waiting == 1)
    pushed = fake_telegram.push_update(private_message(USER, "/start", first_name="Sanne"))
    updates = await asyncio.wait_for(polling, timeout=3)
    [update] = updates
    assert isinstance(update, Update)
    assert update.update_id == pushed["update_id"]
    assert update.message is not None and update.message.text == "/start"
    assert update.effective_user is not None and update.effective_user.language_code == "nl"
    assert update.message.entities[0].type == "bot_command"
    # not confirmed yet: the same update again; confirmed by the next offset: gone
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [update.update_id]
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


async def test_a_second_poller_ends_the_first_with_a_conflict(
    bot: Bot, fake_telegram: FakeTelegram
):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await eventually(lambda: fake_telegram.polls_waiting == 1)
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
        await asyncio.wait_for(first, timeout=3)


async def test_edits_change_what_the_chat_shows(bot: Bot, chats: FakeTelegram):
    chats.push_update(private_message(USER, "/start"))
    sent = await bot.send_message(
        USER, "Kies:", reply_markup=keyboard(InlineKeyboardButton("Ja", callback_data="yes"))
    )
    await bot.edit_message_text("<b>Gekozen:</b> ja", USER, sent.message_id, parse_mode="HTML")
    view = chats.chat_view(USER)
    assert [(m.from_bot, m.text) for m in view] == [(False, "/start"), (True, "Gekozen: ja")]
    assert view[1].buttons == []  # an edit without reply_markup drops the keyboard
    assert chats.sent_messages(USER)[0].text == "Kies:"  # the record keeps what was sent
    with pytest.raises(BadRequest, match=r"(?i)Message is not modified"):
        await bot.edit_message_text("<b>Gekozen:</b> ja", USER, sent.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
        await bot.edit_message_text("x", USER, 999)
    with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
        await bot.edit_message_text("x", USER, view[0].message_id)
    await bot.edit_message_reply_markup(
        USER,
        sent.message_id,
        reply_markup=keyboard(InlineKeyboardButton("Terug", callback_data="b")),
    )
    assert chats.chat_view(USER)[1].button_texts == ["Terug"]
    assert len(chats.edits(USER)) == 2


async def test_callback_queries_are_answered_once(bot: Bot, chats: FakeTelegram):
    sent = await bot.send_message(
        GROUP,
        "Nieuwe melding",
        reply_markup=keyboard(InlineKeyboardButton("Ik pak het op", callback_data="claim:1")),
    )
    on = chats.chat_view(GROUP)[-1].message
    pushed = chats.push_update(callback_query(USER, "claim:1", message=on))
    [update] = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.data == "claim:1"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.id == pushed["callback_query"]["id"]
    await query.answer("Opgepakt")
    with pytest.raises(BadRequest, match=r"(?i)Query is too old"):
        await query.answer("nog eens")
    assert [c.params["text"] for c in chats.callback_answers()] == ["Opgepakt"]


async def test_a_document_can_be_fetched(bot: Bot, fake_telegram: FakeTelegram):
    content = b"naam;school\nJan;Pro\n"
    fake_telegram.add_file("BQACdoc1", content, file_path="documents/file_7.csv")
    fake_telegram.push_update(
        document_message(USER, "BQACdoc1", "leerlingen.csv", "text/csv", len(content))
    )
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.document is not None
    assert update.message.document.file_name == "leerlingen.csv"
    file = await update.message.document.get_file()
    assert (
        file.file_path
        == f"{fake_telegram.api_root}/file/bot{fake_telegram.token}/documents/file_7.csv"
    )
    buffer = io.BytesIO()
    await file.download_to_memory(buffer)
    assert buffer.getvalue() == content
    with pytest.raises(BadRequest, match=r"(?i)Invalid file_id"):
        await bot.get_file("nope")


async def test_a_photo_is_uploaded_as_multipart(bot: Bot, chats: FakeTelegram):
    sent = await bot.send_photo(
        GROUP, PNG, caption="<b>Digest</b> week 12", parse_mode="HTML", filename="digest.png"
    )
    [record] = chats.sent_messages(GROUP)
    assert record.kind == "photo"
    assert record.text == "Digest week 12"
    assert record.content == PNG
    [call] = chats.calls_to("sendPhoto")
    assert call.headers["Content-Type"].startswith("multipart/form-data")
    assert call.files["photo"].filename == "digest.png"
    assert sent.caption == "Digest week 12"
    with pytest.raises(BadRequest, match=r"(?i)Image_process_failed"):
        await bot.send_photo(GROUP, b"not an image")
    document = await bot.send_document(GROUP, b"a;b\n", filename="export.csv")
    assert document.document is not None and document.document.file_name == "export.csv"


async def test_group_commands_carry_the_bot_name(bot: Bot, fake_telegram: FakeTelegram):
    fake_telegram.push_update(group_message(GROUP, USER, "/claim 12", mention_bot=True))
    fake_telegram.push_update(start_with_payload(USER, "inv-abc123"))
    group, start = await bot.get_updates(timeout=0)
    assert group.message is not None and group.message.text == "/claim@vangnet_test_bot 12"
    assert group.message.chat.type == "supergroup"
    assert group.message.parse_entities(["bot_command"]).popitem()[1] == "/claim@vangnet_test_bot"
    assert start.message is not None and start.message.text == "/start inv-abc123"
    assert start.message.chat.type == "private"


async def test_webhook_mode(bot: Bot, fake_telegram: FakeTelegram):
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok", status=503 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/telegram", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/telegram"
    try:
        await bot.set_webhook(url, secret_token="s3cret_token-1")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates(timeout=0)
        pushed = fake_telegram.push_update(private_message(USER, "hallo"))
        # the hook answers 503 the first time: Telegram posts the same update again
        await eventually(lambda: [s for _, s in fake_telegram.webhook_deliveries] == [503, 200])
        assert received == [("s3cret_token-1", pushed)] * 2
        assert fake_telegram.pending_updates() == []
        answer = await post_webhook(url, pushed, secret="wrong")
        assert answer.status_code == 200  # this hook does not check; a real bot must
        with pytest.raises(BadRequest, match=r"(?i)unallowed characters"):
            await bot.set_webhook(url, secret_token="met spatie")
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == ()
    finally:
        await runner.cleanup()


async def test_an_application_answers_a_command_by_polling(fake_telegram: FakeTelegram):
    fake_telegram.add_private_chat(USER)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "<b>Welkom</b>", parse_mode="HTML")

    app = (
        Application.builder()
        .token(fake_telegram.token)
        .base_url(fake_telegram.base_url)
        .base_file_url(fake_telegram.base_file_url)
        .get_updates_read_timeout(2.0)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=1))
    try:
        fake_telegram.push_update(private_message(USER, "/start"))
        await eventually(lambda: len(fake_telegram.sent_messages(USER)) == 1)
        assert fake_telegram.sent_messages(USER)[0].text == "Welkom"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert fake_telegram.pending_updates() == []  # stopping confirmed the update


async def test_server_errors_and_dropped_connections_surface_as_network_errors(
    bot: Bot, chats: FakeTelegram
):
    chats.fail("sendMessage", status=500)
    chats.fail("*", status=0)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(USER, "een")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "twee")
    await bot.send_message(USER, "drie")
    assert [m.text for m in chats.sent_messages(USER)] == ["drie"]


async def test_polling_with_whole_seconds_and_a_429_on_get_updates(fake_telegram: FakeTelegram):
    fake_telegram.add_private_chat(USER)
    fake_telegram.fail("getUpdates", status=429, retry_after=1)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text.upper())

    app = (
        Application.builder()
        .token(fake_telegram.token)
        .base_url(fake_telegram.base_url)
        .base_file_url(fake_telegram.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("echo", echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            fake_telegram.push_update(private_message(USER, "/echo hoi"))
            await eventually(lambda: len(fake_telegram.sent_messages(USER)) == 1)
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake_telegram.sent_messages(USER)[0].text == "/ECHO HOI"
    assert fake_telegram.calls_to("getUpdates", ok_only=False)[0].status == 429


def test_entities_are_placed_in_utf16_units_like_telegram():
    text, entities = parse_html('😀 <b>vet</b> <pre><code class="language-csv">a;b</code></pre>')
    assert text == "😀 vet a;b"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 3},
        {"type": "pre", "offset": 7, "length": 3, "language": "csv"},
    ]
