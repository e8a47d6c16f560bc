"""Telegram in real groups, with updates as Telegram sent them to other projects
(tests/handlers/telegram/fixtures/real_updates.json, each with its source), through the real
python-telegram-bot against the fake Bot API: an update the library cannot read, forum
topics, a group that became a supergroup, channel posts and anonymous admins, and media in
the private chat."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.app import Core
from bot.core.i18n import translator
from bot.handlers.telegram.server import WEBHOOK_PATH
from tests.handlers.slack.conftest import free_port
from tests.handlers.telegram import factories as tg
from tests.handlers.telegram.fake_telegram import FakeTelegram, Shown, eventually
from tests.handlers.telegram.rig import bot_said, running, telegram_settings, texts

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "real_updates.json").read_text())
ANNA, SARA = 1001, 1003
nl = translator("nl")
SECRET = "groups-secret"


def fixture(name: str, ids: dict[int, int] | None = None, text: str | None = None) -> dict:
    """The recorded update `name`, its ids replaced by `ids` (so that it comes from people
    and groups of the test's directory), and its text by `text`."""
    update: dict[str, Any] = copy.deepcopy(FIXTURES[name]["update"])
    swap = ids or {}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: swap.get(v, v) if isinstance(v, int) and not isinstance(v, bool) else walk(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    update = walk(update)
    if text is not None:
        update["message"]["text"] = text
        command = text.split()[0]
        entity = {"offset": 0, "length": len(command), "type": "bot_command"}
        update["message"]["entities"] = [entity] if text.startswith("/") else []
    return update


def in_chat(fake: FakeTelegram, chat_id: int) -> list[Shown]:
    return [m for m in fake.chat_view(chat_id) if m.from_bot]


def webhook_settings(fake: FakeTelegram) -> Any:
    port = free_port()
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    return telegram_settings(
        fake, port=port, telegram_webhook_url=url, telegram_webhook_secret=SECRET
    )


# --- 1. an update python-telegram-bot cannot read ----------------------------------------


async def test_polling_moves_past_an_update_the_library_cannot_read(
    polling: FakeTelegram,
) -> None:
    fake = polling
    fake.push_update(fixture("unreadable_sticker"))
    fake.push_update(tg.private_message(ANNA, "/help"))
    await bot_said(fake, ANNA, "/leavers")  # the update after it is handled
    await eventually(lambda: not fake.pending_updates())  # and the offset moved past both


async def test_the_webhook_answers_200_to_an_update_the_library_cannot_read(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    async with running(live_core, webhook_settings(fake), fake):
        unreadable = fake.push_update(fixture("unreadable_sticker"))
        fake.push_update(tg.private_message(ANNA, "/help"))
        await bot_said(fake, ANNA, "/leavers")
    assert (unreadable["update_id"], 200) in fake.webhook_deliveries
    assert all(status == 200 for _, status in fake.webhook_deliveries)  # nothing sent twice


# --- 2. forum topics ----------------------------------------------------------------------

FORUM, TOPIC = -1001971186208, 2391


async def test_a_command_in_a_topic_is_answered_in_that_topic(polling: FakeTelegram) -> None:
    fake = polling
    fake.push_update(fixture("topic_message", {6129457865: ANNA}, text="/help"))
    await eventually(lambda: bool(in_chat(fake, FORUM)))
    assert all(m.message.get("message_thread_id") == TOPIC for m in in_chat(fake, FORUM))


async def test_a_scan_started_in_a_topic_posts_and_edits_there(polling: FakeTelegram) -> None:
    fake = polling
    fake.push_update(fixture("topic_message", {6129457865: ANNA}, text="/scan start"))

    def with_marks() -> list[Shown]:
        return [m for m in in_chat(fake, FORUM) if any("sv:" in d for d in _data(m))]

    await eventually(lambda: len(with_marks()) == 1)
    warmup = with_marks()[0]
    assert all(m.message.get("message_thread_id") == TOPIC for m in in_chat(fake, FORUM))
    mark = next(d for d in _data(warmup) if d.startswith("sv:"))
    fake.push_update(tg.callback_query(SARA, mark, message=warmup.message))
    votes = nl("Votes so far: {n}. You can change your mark until the factor is closed.", n=1)
    await eventually(lambda: votes in _shown(fake, FORUM, warmup.message_id).text)
    assert len(with_marks()) == 1  # edited in place, in the topic

    # the same group outside the topic is another place: no scan runs there
    fake.push_update(tg.group_message(FORUM, ANNA, "/scan close"))
    await eventually(
        lambda: any(not m.message.get("message_thread_id") for m in in_chat(fake, FORUM))
    )
    outside = [m for m in in_chat(fake, FORUM) if not m.message.get("message_thread_id")]
    assert all("sv:" not in d for m in outside for d in _data(m))


def _data(message: Shown) -> list[str]:
    return [b.get("callback_data", "") for row in message.buttons for b in row]


def _shown(fake: FakeTelegram, chat_id: int, message_id: int) -> Shown:
    return next(m for m in fake.chat_view(chat_id) if m.message_id == message_id)


# --- 3. a group that became a supergroup --------------------------------------------------

OLD, NEW = -929935885, -1001779449685


async def _scan_in_old_group(fake: FakeTelegram) -> Shown:
    fake.add_group(OLD, kind="group")
    fake.push_update(tg.group_message(OLD, ANNA, "/scan start", kind="group"))
    await eventually(lambda: any(any("sv:" in d for d in _data(m)) for m in in_chat(fake, OLD)))
    return next(m for m in in_chat(fake, OLD) if any("sv:" in d for d in _data(m)))


async def test_a_scan_follows_its_group_when_telegram_says_it_became_a_supergroup(
    polling: FakeTelegram,
) -> None:
    fake = polling
    warmup = await _scan_in_old_group(fake)
    mark = next(d for d in _data(warmup) if d.startswith("sv:"))
    fake.push_update(tg.callback_query(SARA, mark, message=warmup.message))  # a vote: the close
    votes = nl("Votes so far: {n}. You can change your mark until the factor is closed.", n=1)
    await eventually(lambda: any(votes in t for t in texts(fake, OLD)))  # is not asked first
    fake.migrate(OLD, NEW)
    fake.push_update(fixture("migrate_to", {1270423426: ANNA}))
    fake.push_update(fixture("migrate_from"))
    fake.push_update(tg.group_message(NEW, ANNA, "/scan close"))
    fake.push_update(tg.group_message(NEW, ANNA, "/scan next"))
    # the open scan is the new supergroup's now: its next factor is posted there, to vote on
    await eventually(lambda: any(any("sv:" in d for d in _data(m)) for m in in_chat(fake, NEW)))
    said = " ".join(texts(fake, NEW))
    assert nl("Start a scan in the channel or group where it takes place.") not in said


async def test_a_send_refused_because_the_group_moved_goes_to_the_new_chat(
    polling: FakeTelegram,
) -> None:
    fake = polling
    warmup = await _scan_in_old_group(fake)
    mark = next(d for d in _data(warmup) if d.startswith("sv:"))
    fake.migrate(OLD, NEW)  # Telegram did not tell the bot (yet): its next post is refused
    fake.push_update(tg.callback_query(SARA, mark, message=warmup.message))
    votes = nl("Votes so far: {n}. You can change your mark until the factor is closed.", n=1)
    await eventually(
        lambda: any(votes in t for t in texts(fake, NEW))
    )  # the count, in the new chat
    fake.push_update(tg.group_message(NEW, ANNA, "/scan results"))
    await eventually(lambda: len(texts(fake, NEW)) >= 2)
    said = " ".join(texts(fake, NEW))
    assert nl("Start a scan in the channel or group where it takes place.") not in said


# --- 4. channel posts and anonymous admins ------------------------------------------------

GROUP = -1001000000002


async def test_channel_posts_in_the_discussion_group_are_ignored_silently(
    polling: FakeTelegram,
) -> None:
    fake = polling
    fake.push_update(fixture("automatic_forward", text="/help de nieuwe regeling"))
    fake.push_update(fixture("channel_sender", text="/cases"))
    fake.push_update(tg.group_message(GROUP, ANNA, "/help"))  # a person after them
    await eventually(lambda: len(in_chat(fake, GROUP)) >= 1)
    await eventually(lambda: not fake.pending_updates())
    assert len(in_chat(fake, GROUP)) == 1  # Anna's answer, nothing for the channel's posts
    assert nl("You are not in the directory") not in " ".join(texts(fake, GROUP))


@pytest.mark.parametrize("name", ["anonymous_admin", "anonymous_admin_2020"])
async def test_an_anonymous_admin_is_asked_to_show_themselves_or_write_privately(
    polling: FakeTelegram, name: str
) -> None:
    fake = polling
    update = fixture(name, text="/cases")
    group = update["message"]["chat"]["id"]
    fake.push_update(update)
    said = await bot_said(fake, group, "zet anoniem beheer uit of schrijf me privé")
    assert said == texts(fake, group)[0] and len(texts(fake, group)) == 1


# --- 5. media in the private chat ---------------------------------------------------------


@pytest.mark.parametrize("name", ["photo_private", "voice_private"])
async def test_a_photo_or_voice_message_gets_a_hint_of_what_the_bot_reads(
    polling: FakeTelegram, name: str
) -> None:
    fake = polling
    original = FIXTURES[name]["update"]["message"]["chat"]["id"]
    fake.push_update(fixture(name, {original: SARA}))
    hint = await bot_said(fake, SARA, "CSV")
    assert "Excel" in hint and "tekst" in hint


@pytest.mark.parametrize("kind", ["sticker", "video"])
async def test_a_sticker_or_video_gets_the_hint_too(polling: FakeTelegram, kind: str) -> None:
    fake = polling
    media = {
        "sticker": {
            "file_id": "CAACAgI",
            "file_unique_id": "AgAD1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
        "video": {
            "file_id": "BAACAgI",
            "file_unique_id": "AgAD2",
            "width": 640,
            "height": 360,
            "duration": 3,
        },
    }[kind]
    person = tg.user(SARA)
    fake.push_update(
        tg.update(message=tg.message_in(tg.private_chat(person), person, None, **{kind: media}))
    )
    await bot_said(fake, SARA, "CSV")


async def test_a_stranger_sending_a_photo_gets_only_the_refusal(polling: FakeTelegram) -> None:
    fake = polling
    fake.push_update(fixture("photo_private"))
    stranger = FIXTURES["photo_private"]["update"]["message"]["chat"]["id"]
    await bot_said(fake, stranger, "adresboek")
    assert len(texts(fake, stranger)) == 1


async def test_the_webhook_records_before_it_answers(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    """Item 9 in webhook mode: by the time Telegram has its 200, the update is in the
    database (and what it says is not readable there)."""
    from sqlmodel import select

    from bot.store.db import session_scope
    from bot.store.models import TelegramUpdate
    from tests.handlers.telegram.fake_telegram import post_webhook

    settings = webhook_settings(fake_telegram)
    update = tg.private_message(ANNA, "/help")
    async with running(live_core, settings, fake_telegram), httpx.AsyncClient() as http:
        fake_telegram.webhook.clear()  # the test plays Telegram itself
        fake_telegram.add_private_chat(ANNA)
        answer = await post_webhook(settings.telegram_webhook_url or "", update, SECRET, http=http)
        assert answer.status_code == 200
        with session_scope(live_core.engine, write=False) as session:
            row = session.get(TelegramUpdate, update["update_id"])
        assert row is not None
        await eventually(lambda: bool(texts(fake_telegram, ANNA)))
    with session_scope(live_core.engine, write=False) as session:
        rows = session.exec(select(TelegramUpdate)).all()
    assert [r.id for r in rows] == [update["update_id"]]
    assert rows[0].handled_at is not None and rows[0].payload is None
