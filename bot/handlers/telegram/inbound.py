"""Telegram updates as typed inbound events: small pure functions chosen from a table.

`translate(update, bot_username=...)` takes an update as Telegram sends it (the JSON of
getUpdates or a webhook, or `Update.to_dict()`) and always answers: one of the event types
below, or `Unsupported` with the reason (and logs it). Nothing is dropped silently. An
unsupported callback query carries its id, because every callback query must be answered.

Who the sender is in the directory is not decided here: a stranger's update translates like
anyone's, and the layer above refuses them politely. Who sent a message is: a post a linked
channel forwards into its discussion group (`is_automatic_forward`) and a message sent on
behalf of a channel (`sender_chat`, another chat) are nobody's and unsupported; a group's
anonymous admin (`sender_chat` is the group itself) is `AnonymousAdmin`, to be told that the
bot cannot tell who they are. In a forum supergroup a message typed in a topic carries the
topic (`thread_id`), so the answer goes there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.commands import split_command

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]

# what t.me/<bot>?start=<payload> may carry (Telegram allows these characters, up to 64)
START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
# what a message holds instead of text, to say in the log what was not understood
CONTENT_KINDS = (
    "contact",
    "location",
    "venue",
    "poll",
    "dice",
    "story",
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "pinned_message",
)
# the user Telegram names as the sender of an anonymous group admin's messages (the group
# itself is their sender_chat; before Bot API 5.0 this user was all there was)
GROUP_ANONYMOUS_BOT = 1087968824
# what a person may send in the private chat that the bot cannot read: they get a hint
MEDIA_KINDS = ("photo", "sticker", "voice", "video", "video_note", "audio", "animation")


@dataclass(frozen=True)
class PrivateMessage:
    """A line typed to the bot in the private chat: a command or an answer."""

    user_id: int
    chat_id: int
    text: str  # a command's @botname suffix removed: "/claim 12"
    language_code: str | None = None

    @property
    def command(self) -> str | None:
        """The command's name ("claim"), or None when this is not a command."""
        return split_command(self.text)[0] if self.text.startswith("/") else None


@dataclass(frozen=True)
class GroupMessage:
    """A command typed in a group (anything else said in a group is not for the bot)."""

    user_id: int
    chat_id: int
    chat_type: str  # "group" or "supergroup"
    text: str  # the @botname suffix removed: "/help"
    language_code: str | None = None
    thread_id: int | None = None  # the forum topic it was typed in

    @property
    def command(self) -> str:
        return split_command(self.text)[0]


@dataclass(frozen=True)
class AnonymousAdmin:
    """A command typed by a group's admin who posts anonymously (as the group itself): the
    bot cannot tell who they are."""

    chat_id: int
    text: str
    thread_id: int | None = None


@dataclass(frozen=True)
class GroupMigrated:
    """A group became a supergroup: its chat id changed from `old_chat_id` to `new_chat_id`
    (Telegram says so in both chats: `migrate_to_chat_id` in the old, `migrate_from_chat_id`
    in the new)."""

    old_chat_id: int
    new_chat_id: int


@dataclass(frozen=True)
class MediaShared:
    """A photo, sticker, voice message, video … sent in the private chat: not for the bot."""

    user_id: int
    chat_id: int
    kind: str
    language_code: str | None = None


@dataclass(frozen=True)
class StartWithPayload:
    """The person opened t.me/<bot>?start=TOKEN: an invite to bind their account."""

    user_id: int
    chat_id: int
    token: str
    language_code: str | None = None


@dataclass(frozen=True)
class CallbackPress:
    """A button pressed; `data` is the callback data as sent (see callbacks.action_of)."""

    user_id: int
    chat_id: int
    message_id: int
    data: str
    callback_query_id: str
    in_private: bool
    language_code: str | None = None
    thread_id: int | None = None  # the forum topic of the message the button is on


@dataclass(frozen=True)
class DocumentShared:
    """A file sent to the bot in the private chat (a CSV file or workbook of leavers, say),
    with the caption typed with it (which may name a workbook's sheet)."""

    user_id: int
    chat_id: int
    file_id: str
    file_name: str
    mime_type: str
    file_size: int
    language_code: str | None = None
    caption: str = ""


@dataclass(frozen=True)
class Unsupported:
    kind: str
    reason: str
    callback_query_id: str | None = None  # answer it all the same


Inbound = (
    PrivateMessage
    | GroupMessage
    | StartWithPayload
    | CallbackPress
    | DocumentShared
    | MediaShared
    | AnonymousAdmin
    | GroupMigrated
    | Unsupported
)


class Malformed(ValueError):
    """An update of a known kind that lacks what its kind always has."""


def _get(payload: Payload, *path: str) -> Any:
    value: Any = payload
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            raise Malformed("missing " + ".".join(path))
        value = value[key]
    return value


def _int(payload: Payload, *path: str) -> int:
    value = _get(payload, *path)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Malformed(".".join(path) + " is not a number")
    return value


def _str(payload: Payload, *path: str) -> str:
    value = _get(payload, *path)
    if not isinstance(value, str):
        raise Malformed(".".join(path) + " is not text")
    return value


def _opt(payload: Payload, *path: str) -> str | None:
    try:
        return _str(payload, *path)
    except Malformed:
        return None


def _command_text(text: str, bot_username: str) -> str | None:
    """'/claim@our_bot 12' → '/claim 12'; None when the command is for another bot."""
    head, space, rest = text.partition(" ")
    name, at, addressee = head.partition("@")
    if at and addressee.casefold() != bot_username.casefold():
        return None
    return name + space + rest


# --- one function per kind --------------------------------------------------------------------


def _topic(msg: Payload) -> int | None:
    """The forum topic a message belongs to (None: not in a forum's topic)."""
    thread = msg.get("message_thread_id")
    if msg.get("is_topic_message") is True and isinstance(thread, int) and thread > 0:
        return thread
    return None


def message(update: Payload, bot_username: str) -> Inbound:
    msg: Payload = _get(update, "message")
    chat_id = _int(msg, "chat", "id")
    for key in ("migrate_to_chat_id", "migrate_from_chat_id"):
        other = msg.get(key)
        if isinstance(other, int) and not isinstance(other, bool):
            old, new = (chat_id, other) if key == "migrate_to_chat_id" else (other, chat_id)
            return GroupMigrated(old_chat_id=old, new_chat_id=new)
    if msg.get("is_automatic_forward"):
        return Unsupported("message", "an automatic forward from a linked channel")
    on_behalf = msg.get("sender_chat")
    sender = msg.get("from")
    if isinstance(on_behalf, Mapping) and on_behalf.get("id") != chat_id:
        return Unsupported("message", "sent on behalf of a channel")
    if isinstance(on_behalf, Mapping) or (
        isinstance(sender, Mapping) and sender.get("id") == GROUP_ANONYMOUS_BOT
    ):
        typed = (_opt(msg, "text") or "").strip()
        if not typed.startswith("/"):
            return Unsupported("message", "an anonymous admin's message, not a command")
        command = _command_text(typed, bot_username)
        if command is None:
            return Unsupported("message", "a command for another bot")
        return AnonymousAdmin(chat_id=chat_id, text=command, thread_id=_topic(msg))
    if not isinstance(sender, Mapping):
        return Unsupported("message", "no sender")
    if sender.get("is_bot"):
        return Unsupported("message", "from a bot")
    user_id = _int(sender, "id")
    language = _opt(sender, "language_code")
    chat_type = _str(msg, "chat", "type")
    private = chat_type == "private"
    if "document" in msg:
        if not private:
            return Unsupported("message", "a document outside the private chat")
        document: Payload = _get(msg, "document")
        size = document.get("file_size", 0)
        return DocumentShared(
            user_id=user_id,
            chat_id=chat_id,
            file_id=_str(document, "file_id"),
            file_name=_opt(document, "file_name") or "",
            mime_type=_opt(document, "mime_type") or "",
            file_size=size if isinstance(size, int) else 0,
            language_code=language,
            caption=(_opt(msg, "caption") or "").strip(),
        )
    text = _opt(msg, "text")
    if text is None:
        media = next((kind for kind in MEDIA_KINDS if kind in msg), None)
        if private and media is not None:
            return MediaShared(user_id=user_id, chat_id=chat_id, kind=media, language_code=language)
        what = next((kind for kind in (*MEDIA_KINDS, *CONTENT_KINDS) if kind in msg), "no text")
        return Unsupported("message", f"{what}, not text")
    text = text.strip()
    if text.startswith("/"):
        command = _command_text(text, bot_username)
        if command is None:
            return Unsupported("message", "a command for another bot")
        text = command
    if private:
        name, payload = split_command(text) if text.startswith("/") else ("", "")
        if name == "start" and START_PAYLOAD.fullmatch(payload):
            return StartWithPayload(
                user_id=user_id, chat_id=chat_id, token=payload, language_code=language
            )
        return PrivateMessage(user_id=user_id, chat_id=chat_id, text=text, language_code=language)
    if chat_type not in ("group", "supergroup"):
        return Unsupported("message", f"in a {chat_type}")
    if not text.startswith("/"):
        return Unsupported("message", "not a command, in a group")
    return GroupMessage(
        user_id=user_id,
        chat_id=chat_id,
        chat_type=chat_type,
        text=text,
        language_code=language,
        thread_id=_topic(msg),
    )


def callback_query(update: Payload, bot_username: str) -> Inbound:
    query: Payload = _get(update, "callback_query")
    query_id = _str(query, "id")
    data = _opt(query, "data")
    if not data:
        return Unsupported("callback_query", "no callback data", callback_query_id=query_id)
    on = query.get("message")
    if not isinstance(on, Mapping):
        return Unsupported("callback_query", "not on a message in a chat", query_id)
    return CallbackPress(
        user_id=_int(query, "from", "id"),
        chat_id=_int(on, "chat", "id"),
        message_id=_int(on, "message_id"),
        data=data,
        callback_query_id=query_id,
        in_private=_opt(on, "chat", "type") == "private",
        language_code=_opt(query, "from", "language_code"),
        thread_id=_topic(on),
    )


TRANSLATORS: dict[str, Callable[[Payload, str], Inbound]] = {
    "message": message,
    "callback_query": callback_query,
}


def kind_of(update: Payload) -> str:
    """What the update holds: "message", "callback_query", "edited_message", …"""
    return next((str(key) for key in update if key != "update_id"), "empty")


def translate(update: Payload, *, bot_username: str) -> Inbound:
    """The inbound event in `update`, or Unsupported (logged) — never None.

    `bot_username` is this bot's (getMe's username): a command addressed to another bot in
    a group (/help@other_bot) is not ours."""
    kind = kind_of(update)
    translator = TRANSLATORS.get(kind)
    try:
        outcome = translator(update, bot_username) if translator else Unsupported(kind, "not used")
    except Malformed as problem:
        query_id = _opt(update, "callback_query", "id") if kind == "callback_query" else None
        outcome = Unsupported(kind, f"malformed: {problem}", query_id)
    if isinstance(outcome, Unsupported):
        log.info("telegram: unsupported %s (%s)", outcome.kind, outcome.reason)
    return outcome
