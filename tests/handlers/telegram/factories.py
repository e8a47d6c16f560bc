"""Telegram updates as Telegram sends them (Bot API JSON), for `FakeTelegram.push_update` or a
webhook POST. Ids increase; `push_update` gives messages their chat's next message_id and the
update its update_id, so the numbers here only have to be plausible."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.handlers.telegram.fake_telegram import BOT_USERNAME, DEFAULT_TOKEN, utf16_len

_update_ids = itertools.count(900_000_001)
_message_ids = itertools.count(1)
_query_ids = itertools.count(1)
_file_ids = itertools.count(1)
BOT = {
    "id": int(DEFAULT_TOKEN.split(":")[0]),
    "is_bot": True,
    "first_name": "Vangnet",
    "username": BOT_USERNAME,
}


def user(
    user_id: int,
    *,
    first_name: str = "Sanne",
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "nl",
) -> dict[str, Any]:
    """A Telegram User (a person)."""
    result: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        result["last_name"] = last_name
    if username:
        result["username"] = username
    if language_code:
        result["language_code"] = language_code
    return result


def private_chat(person: dict[str, Any]) -> dict[str, Any]:
    chat = {k: person[k] for k in ("id", "first_name", "last_name", "username") if k in person}
    return {**chat, "type": "private"}


def group_chat(chat_id: int, *, title: str = "Netwerk Vangnet", kind: str = "supergroup") -> dict:
    if kind not in ("group", "supergroup"):
        raise ValueError(kind)
    return {"id": chat_id, "title": title, "type": kind}


def command_entities(text: str) -> list[dict[str, Any]]:
    """A bot_command entity for text that starts with a command (with any @botname suffix)."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0] if text.strip() else text
    return [{"offset": 0, "length": utf16_len(command), "type": "bot_command"}]


def message_in(
    chat: dict[str, Any], sender: dict[str, Any], text: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A Message object in `chat` from `sender`."""
    result: dict[str, Any] = {
        "message_id": next(_message_ids),
        "from": dict(sender),
        "chat": dict(chat),
        "date": int(time.time()),
    }
    if text is not None:
        result["text"] = text
        entities = command_entities(text)
        if entities:
            result["entities"] = entities
    result.update(extra)
    return result


def update(**content: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **content}


def private_message(
    user_id: int,
    text: str,
    *,
    first_name: str = "Sanne",
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "nl",
) -> dict[str, Any]:
    """An update: `user_id` writes `text` to the bot in their private chat."""
    person = user(
        user_id,
        first_name=first_name,
        last_name=last_name,
        username=username,
        language_code=language_code,
    )
    return update(message=message_in(private_chat(person), person, text))


def group_message(
    chat_id: int,
    user_id: int,
    text: str,
    *,
    kind: str = "supergroup",
    title: str = "Netwerk Vangnet",
    first_name: str = "Sanne",
    language_code: str | None = "nl",
    mention_bot: bool = False,
) -> dict[str, Any]:
    """An update: `user_id` writes `text` in a group. With `mention_bot`, a command gets the
    @botname suffix Telegram clients add in groups (/claim@vangnet_test_bot 12)."""
    if mention_bot and text.startswith("/"):
        command, _, rest = text.partition(" ")
        text = f"{command}@{BOT_USERNAME}" + (f" {rest}" if rest else "")
    person = user(user_id, first_name=first_name, language_code=language_code)
    return update(message=message_in(group_chat(chat_id, title=title, kind=kind), person, text))


def callback_query(
    user_id: int,
    data: str,
    *,
    message: dict[str, Any] | None = None,
    chat: dict[str, Any] | None = None,
    first_name: str = "Sanne",
    language_code: str | None = "nl",
) -> dict[str, Any]:
    """An update: `user_id` pressed a button with `data` on `message` (a bot message, e.g.
    `fake.chat_view(chat_id)[-1].message`). Without one, a bot message in the user's private
    chat (or in `chat`) stands in."""
    person = user(user_id, first_name=first_name, language_code=language_code)
    on = message if message is not None else message_in(chat or private_chat(person), BOT, "…")
    query = {
        "id": str(4_000_000_000_000_000 + next(_query_ids)),
        "from": person,
        "message": on,
        "chat_instance": str(-(8_000_000_000_000 + abs(int(on["chat"]["id"])))),
        "data": data,
    }
    return update(callback_query=query)


def document_message(
    user_id: int,
    file_id: str,
    file_name: str,
    mime_type: str = "text/csv",
    file_size: int = 0,
    *,
    caption: str | None = None,
    chat: dict[str, Any] | None = None,
    first_name: str = "Sanne",
    language_code: str | None = "nl",
) -> dict[str, Any]:
    """An update: `user_id` sends a file (register its bytes with `fake.add_file(file_id, ...)`),
    in their private chat or in `chat`."""
    person = user(user_id, first_name=first_name, language_code=language_code)
    document = {
        "file_name": file_name,
        "mime_type": mime_type,
        "file_id": file_id,
        "file_unique_id": f"AgAD{next(_file_ids):06d}",
        "file_size": file_size,
    }
    extra: dict[str, Any] = {"document": document}
    if caption is not None:
        extra["caption"] = caption
    return update(message=message_in(chat or private_chat(person), person, None, **extra))


def start_with_payload(user_id: int, token: str, **kwargs: Any) -> dict[str, Any]:
    """An update: the user opened t.me/<bot>?start=TOKEN, so the client sent "/start TOKEN"."""
    return private_message(user_id, f"/start {token}", **kwargs)


def my_chat_member(
    chat_id: int, user_id: int, *, status: str = "member", old_status: str = "left"
) -> dict[str, Any]:
    """An update: `user_id` added the bot to a group (status "member"), or removed it ("left",
    "kicked")."""
    return update(
        my_chat_member={
            "chat": group_chat(chat_id),
            "from": user(user_id),
            "date": int(time.time()),
            "old_chat_member": {"user": dict(BOT), "status": old_status},
            "new_chat_member": {"user": dict(BOT), "status": status},
        }
    )
