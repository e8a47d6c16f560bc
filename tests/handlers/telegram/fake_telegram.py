"""A fake Telegram Bot API on 127.0.0.1 that answers like Telegram.

Point python-telegram-bot at it with `base_url=f"{fake.api_root}/bot"` and
`base_file_url=f"{fake.api_root}/file/bot"` (PTB appends the token: ROOT/bot<token>/METHOD and
ROOT/file/bot<token>/PATH). It reads JSON, form-urlencoded (what PTB sends) and multipart (what
PTB sends when it uploads a file) bodies, answers `{"ok": true, "result": ...}` or Telegram's
`{"ok": false, "error_code": ..., "description": ...}`, and records every call.

What it checks, like Telegram does:
- the token (401 Unauthorized) and the method (404 Not Found);
- text over 4,096 and captions over 1,024 characters, counted as Telegram counts them: the visible
  text after entity parsing, in UTF-16 code units; empty text;
- parse_mode HTML: only Telegram's tags (b, strong, i, em, u, ins, s, strike, del,
  span class="tg-spoiler", tg-spoiler, a, code, pre, blockquote, tg-emoji), balanced and closed,
  and only the entities &lt; &gt; &amp; &quot; and numeric ones. It is stricter than Telegram on
  one point: a bare `&` that starts no entity is refused (Telegram shows it as it is), because a
  bare `&` means text went out unescaped;
- inline keyboards: a list of rows of buttons, each with a text and exactly one action, at most
  100 buttons, callback_data 1-64 bytes, http(s)/tg URLs;
- chats: a private chat must have been started (a pushed update from that user, or
  `add_private_chat`), else 403 "bot can't initiate conversation"; a blocked user gives 403;
  an unknown group gives 400 "chat not found";
- edits: unknown message, someone else's message, and "message is not modified";
- answerCallbackQuery: only once per pushed callback query, text up to 200 characters;
- getUpdates: long polling that wakes as soon as an update is pushed, offset confirms, a second
  concurrent getUpdates ends the first with 409, getUpdates with a webhook set gives 409;
- setWebhook's secret_token charset; photos must be images (PNG, JPEG, GIF or WebP).

What it does not do: MarkdownV2 parsing (such text is only length-checked as sent), entity
nesting rules, real flood control (inject 429s with `fail`), inline mode, media groups, https
for webhooks (any http(s) URL is accepted so tests can use 127.0.0.1), the 20 MB download limit
beyond a size check, and most methods a bot never calls here.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from tests.handlers.slack.fake_slack import eventually

__all__ = ["FakeTelegram", "eventually", "post_webhook"]

DEFAULT_TOKEN = "7000000001:AAFakeTelegramTestToken_vangnet-0123"
BOT_USERNAME = "vangnet_test_bot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_ANSWER_TEXT = 200

# Parameters that arrive JSON-encoded in form bodies, and ones that are numbers or booleans.
JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "commands",
    "scope",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "media",
    "menu_button",
}
INT_FIELDS = {
    "offset",
    "limit",
    "timeout",
    "message_id",
    "user_id",
    "cache_time",
    "reply_to_message_id",
    "message_thread_id",
    "max_connections",
}
BOOL_FIELDS = {
    "show_alert",
    "drop_pending_updates",
    "disable_notification",
    "protect_content",
    "disable_web_page_preview",
    "allow_sending_without_reply",
    "has_spoiler",
    "disable_content_type_detection",
}
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
DEFAULT_UPDATE_TYPES = {
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
}
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class TelegramError(Exception):
    """An error answer: HTTP status and Telegram's description."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def answer(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {description}")


# --- HTML as Telegram parses it ---------------------------------------------------------------

HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)?\s*>")
_ATTRIBUTE = re.compile(
    r"\s+([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?"
)


def _decode_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.startswith(("#x", "#X")):
        point = int(name[2:], 16)
    elif name.startswith("#"):
        point = int(name[1:])
    else:
        return {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[name]
    if point == 0 or point > 0x10FFFF or 0xD800 <= point <= 0xDFFF:
        return "\ufffd"
    return chr(point)


def _unescape_attribute(value: str) -> str:
    return _ENTITY.sub(_decode_entity, value)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and the entities Telegram makes of `source`; raises on what it refuses."""

    def at(i: int) -> int:
        return len(source[:i].encode("utf-8"))

    def fail(reason: str) -> TelegramError:
        return bad_request(f"can't parse entities: {reason}")

    out: list[str] = []
    offset = 0  # UTF-16 offset of the end of `out`
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, dict[str, str], int]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            entity = _ENTITY.match(source, i)
            if entity is None:
                raise fail(f"Character entity expected at byte offset {at(i)}")
            decoded = _decode_entity(entity)
            out.append(decoded)
            offset += utf16_len(decoded)
            i = entity.end()
        elif char == "<" and source.startswith("</", i):
            end = _END_TAG.match(source, i)
            if end is None:
                raise fail(f"Unclosed end tag at byte offset {at(i)}")
            name = (end.group(1) or "").lower()
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {at(i)}")
            open_name, attributes, start = stack[-1]
            if name != open_name:
                raise fail(
                    f'Unmatched end tag at byte offset {at(i)}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
            if offset > start:
                entities.append(_entity(open_name, attributes, start, offset - start))
            i = end.end()
        elif char == "<":
            start_tag = _START_TAG.match(source, i)
            if start_tag is None:
                raise fail(f'Unsupported start tag "" at byte offset {at(i)}')
            name = start_tag.group(1).lower()
            if name not in HTML_TAGS:
                raise fail(f'Unsupported start tag "{name}" at byte offset {at(i)}')
            j = start_tag.end()
            attributes: dict[str, str] = {}
            while True:
                attribute = _ATTRIBUTE.match(source, j)
                if attribute is None:
                    break
                value = next((v for v in attribute.groups()[1:] if v is not None), "")
                attributes[attribute.group(1).lower()] = _unescape_attribute(value)
                j = attribute.end()
            while j < len(source) and source[j] in " \t\r\n":
                j += 1
            if j >= len(source) or source[j] != ">":
                raise fail(f"Unclosed start tag at byte offset {at(i)}")
            if name == "span" and attributes.get("class") != "tg-spoiler":
                raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {at(i)}')
            if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
                raise fail(f'Tag "tg-emoji" must have an "emoji-id" at byte offset {at(i)}')
            stack.append((name, attributes, offset))
            i = j + 1
        else:
            out.append(char)
            offset += utf16_len(char)
            i += 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    # <pre><code class="language-x"> is one pre entity with a language
    for pre in [e for e in entities if e["type"] == "pre"]:
        for code in [e for e in entities if e["type"] == "code"]:
            if (code["offset"], code["length"]) == (pre["offset"], pre["length"]):
                entities.remove(code)
                if "language" in code:
                    pre.setdefault("language", code["language"])
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity(name: str, attributes: dict[str, str], start: int, length: int) -> dict[str, Any]:
    kind = HTML_TAGS[name]
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": length}
    if kind == "text_link":
        entity["url"] = attributes.get("href", "")
    elif kind in ("pre", "code") and attributes.get("class", "").startswith("language-"):
        entity["language"] = attributes["class"].removeprefix("language-")
    elif kind == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attributes["emoji-id"]
    return entity


def render_text(text: Any, parse_mode: Any, *, caption: bool) -> tuple[str, list[dict[str, Any]]]:
    """Check `text` like Telegram does for a message (or a caption) and give what it shows."""
    limit, too_long = (
        (MAX_CAPTION, "message caption is too long")
        if caption
        else (MAX_TEXT, "message is too long")
    )
    text = "" if text is None else str(text)
    mode = str(parse_mode or "").lower()
    if mode == "html":
        visible, entities = parse_html(text)
    elif mode in ("", "markdown", "markdownv2"):
        visible, entities = text, []
    else:
        raise bad_request("unsupported parse_mode")
    if not caption and not visible.strip():
        raise bad_request("message text is empty")
    if utf16_len(visible) > limit:
        raise bad_request(too_long)
    return visible, entities


# --- keyboards --------------------------------------------------------------------------------


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """The markup as Telegram keeps it, or an error like Telegram's."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if "keyboard" in markup or "remove_keyboard" in markup or "force_reply" in markup:
            return markup  # a reply keyboard; Telegram keeps none of it on the message
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "inline_keyboard" of the '
            "InlineKeyboardMarkup should be an Array of Arrays"
        )
    count = 0
    for row in rows:
        for button in row:
            count += 1
            if not isinstance(button, dict):
                raise bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton should be an Object"
                )
            if not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not button["text"].strip():
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            actions = [name for name in BUTTON_ACTIONS if name in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if len(actions) > 1:
                raise bad_request(
                    "can't parse inline keyboard button: A button must have exactly one of "
                    + ", ".join(actions)
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not re.match(r"(https?|tg)://[^\s]+$", url):
                    raise bad_request(
                        f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                    )
    if count > 100:
        raise bad_request("reply markup is too long")
    return markup


def inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a message carries: only an inline keyboard with buttons."""
    if markup and markup.get("inline_keyboard") and any(markup["inline_keyboard"]):
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


# --- records ----------------------------------------------------------------------------------


@dataclass
class Upload:
    filename: str | None
    content_type: str
    content: bytes


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200
    description: str | None = None  # Telegram's description when not ok
    result: Any = None
    files: dict[str, Upload] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    answered: bool = False  # recorded when it arrives, answered once handled

    @property
    def ok(self) -> bool:
        """Answered with success (a call still being handled is not ok yet)."""
        return self.status == 200 and self.answered


@dataclass
class Shown:
    """A message in a chat as its reader sees it (now, or when it was sent)."""

    chat_id: int
    message_id: int
    from_bot: bool
    kind: str  # text, photo, document
    text: str  # the visible text (or caption), tags stripped and entities decoded
    source: str  # the text (or caption) as sent, with its markup
    reply_markup: dict[str, Any] | None
    message: dict[str, Any]  # the Message object as Telegram gives it, e.g. for a callback
    content: bytes | None = None  # an uploaded photo or document

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        return list((self.reply_markup or {}).get("inline_keyboard", []))

    @property
    def button_texts(self) -> list[str]:
        return [button["text"] for row in self.buttons for button in row]

    def button(self, text: str) -> dict[str, Any]:
        """The button whose text contains `text`."""
        for row in self.buttons:
            for button in row:
                if text in button["text"]:
                    return dict(button)
        raise KeyError(text)


@dataclass
class Failure:
    status: int  # 429, 500, 502, or 0 to drop the connection
    retry_after: int


class FakeTelegram:
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = BOT_USERNAME,
        first_name: str = "Vangnet",
    ) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.started: set[int] = set()  # users who opened a private chat with the bot
        self.blocked: set[int] = set()
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id → (file_path, content)
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] = {}  # url, secret_token, ... while a webhook is set
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status or 0)
        self._messages: dict[int, dict[int, Shown]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_000_001)
        self._allowed_updates: set[str] = set(DEFAULT_UPDATE_TYPES)
        self._open_queries: set[str] = set()
        self._failures: dict[str, list[Failure]] = {}
        self._slow: dict[str, list[float]] = {}  # method → seconds each next answer is late
        self.outage = False  # while True every call is answered 502 Bad Gateway
        self.migrated: dict[int, int] = {}  # a group that became a supergroup → its new id
        # called with the update_ids a getUpdates offset confirms, before they are forgotten
        self.on_confirm: Callable[[list[int]], None] | None = None
        self._file_ids = itertools.count(1)
        self._wake = asyncio.Event()
        self._poll_generation = 0
        self.polls_waiting = 0  # getUpdates calls now waiting for an update
        self._closing = False
        self._deliverer: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.api_root = ""

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.api_root = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        if self._deliverer is not None:
            self._deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._deliverer
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """PTB's `base_url` (it appends the token)."""
        return f"{self.api_root}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's `base_file_url` (it appends the token)."""
        return f"{self.api_root}/file/bot"

    # --- control --------------------------------------------------------------------------

    def fail(self, method: str, times: int = 1, status: int = 429, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` ("*" for any) with `status`.

        429 is Telegram's flood control with `retry_after` seconds; 500 and 502 are server
        errors; 0 drops the connection without an answer.
        """
        self._failures.setdefault(method, []).extend([Failure(status, retry_after)] * times)

    def slow(self, method: str, seconds: float, times: int = 1) -> None:
        """Do the next `times` calls of `method` at once but answer each `seconds` late, as
        Telegram does when it is slow: a client that stops waiting never learns it worked."""
        self._slow.setdefault(method, []).extend([seconds] * times)

    def migrate(self, old_chat_id: int, new_chat_id: int, title: str = "Netwerk") -> None:
        """The group `old_chat_id` became the supergroup `new_chat_id`: sending to the old id
        fails with Telegram's 400 naming the new one."""
        self.migrated[old_chat_id] = new_chat_id
        self._learn_chat({"id": new_chat_id, "title": title, "type": "supergroup"})

    def add_private_chat(
        self, user_id: int, first_name: str = "Test", *, username: str | None = None
    ) -> None:
        """A user who has started the bot, so it may write to them."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        self._learn_user(user)
        self._learn_chat({k: v for k, v in user.items() if k != "is_bot"} | {"type": "private"})
        self.started.add(user_id)

    def add_group(self, chat_id: int, title: str = "Netwerk", kind: str = "supergroup") -> None:
        self._learn_chat({"id": chat_id, "title": title, "type": kind})

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sending to them gives 403."""
        self.blocked.add(user_id)

    def add_file(self, file_id: str, content: bytes, file_path: str = "documents/file.csv") -> None:
        """A file the bot can fetch with getFile and ROOT/file/bot<token>/<file_path>."""
        self.files[file_id] = (file_path, content)

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (or the webhook): it gets the next update_id, and a new
        message gets the chat's next message_id. Gives the update as queued."""
        update = self.arriving(update)
        self._updates.append(update)
        self._notify()
        self._start_delivery()
        return update

    def arriving(self, update: dict[str, Any]) -> dict[str, Any]:
        """An update as Telegram makes it (the next update_id; a new message the chat's next
        message_id; a callback query open for its answer), not queued: for a caller that
        posts it to the webhook itself (the benchmarks, many at once)."""
        update = json.loads(json.dumps(update))
        update["update_id"] = next(self._update_ids)
        for key in ("message", "channel_post", "business_message"):
            if key in update:
                message = update[key]
                self._learn_message_parties(message)
                chat_id = int(message["chat"]["id"])
                message["message_id"] = self._take_message_id(chat_id)
                if message["chat"]["type"] == "private":
                    self.started.add(chat_id)
                text = message.get("text", message.get("caption", ""))
                self._store(
                    Shown(
                        chat_id=chat_id,
                        message_id=message["message_id"],
                        from_bot=False,
                        kind="document" if "document" in message else "text",
                        text=text,
                        source=text,
                        reply_markup=None,
                        message=message,
                    )
                )
        if "callback_query" in update:
            query = update["callback_query"]
            self._learn_user(query["from"])
            if "message" in query:
                self._learn_message_parties(query["message"])
            self._open_queries.add(str(query["id"]))
        for key in ("my_chat_member", "chat_member"):
            if key in update:
                self._learn_chat(update[key]["chat"])
                self._learn_user(update[key]["from"])
        return update

    # --- what happened --------------------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def sent_messages(self, chat_id: int | None = None) -> list[Shown]:
        """Messages the bot sent (sendMessage, sendPhoto, sendDocument), as they were sent."""
        return [
            c.result["__shown__"]
            for c in self.calls
            if c.ok
            and c.method in ("sendMessage", "sendPhoto", "sendDocument")
            and (chat_id is None or c.result["__shown__"].chat_id == chat_id)
        ]

    def edits(self, chat_id: int | None = None) -> list[Call]:
        """Successful editMessageText/Caption/ReplyMarkup calls, optionally in one chat."""
        return [
            c
            for c in self.calls
            if c.ok
            and c.method in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup")
            and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def callback_answers(self) -> list[Call]:
        return self.calls_to("answerCallbackQuery")

    def failed(self) -> list[Call]:
        """Calls Telegram refused (400, 401, 403, 404, 409) or that were made to fail."""
        return [c for c in self.calls if c.answered and not c.ok]

    def chat_view(self, chat_id: int) -> list[Shown]:
        """The messages in a chat now, oldest first: the user's and the bot's, as edited."""
        return [self._messages[chat_id][i] for i in sorted(self._messages.get(chat_id, {}))]

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset (or delivered to the webhook)."""
        return list(self._updates)

    # --- bookkeeping ----------------------------------------------------------------------

    def _notify(self) -> None:
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    def _learn_user(self, user: dict[str, Any]) -> None:
        if not user.get("is_bot"):
            self.users[int(user["id"])] = dict(user)

    def _learn_chat(self, chat: dict[str, Any]) -> None:
        self.chats[int(chat["id"])] = {**self.chats.get(int(chat["id"]), {}), **chat}

    def _learn_message_parties(self, message: dict[str, Any]) -> None:
        self._learn_chat(message["chat"])
        if "from" in message:
            self._learn_user(message["from"])

    def _take_message_id(self, chat_id: int) -> int:
        number = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = number + 1
        return number

    def _store(self, shown: Shown) -> None:
        self._messages.setdefault(shown.chat_id, {})[shown.message_id] = shown

    def _chat_for_sending(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        chat = self.chats.get(chat_id)
        if chat_id > 0:
            if chat_id in self.blocked:
                raise TelegramError(403, "Forbidden: bot was blocked by the user")
            if chat_id not in self.started or chat is None:
                if chat_id in self.users:
                    raise TelegramError(
                        403, "Forbidden: bot can't initiate conversation with a user"
                    )
                raise bad_request("chat not found")
        elif chat_id in self.migrated:
            raise TelegramError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        elif chat is None:
            raise bad_request("chat not found")
        params["chat_id"] = chat_id
        return chat

    def _message_in(self, params: dict[str, Any], missing: str) -> Shown:
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._chat_for_sending(params)
        message_id = params.get("message_id")
        shown = self._messages.get(int(chat["id"]), {}).get(int(message_id or 0))
        if shown is None:
            raise bad_request(missing)
        return shown

    def _new_file(self, upload: Upload, folder: str, extension: str) -> tuple[str, str]:
        number = next(self._file_ids)
        file_id = f"AgAC{folder[:3]}{number:06d}"
        self.files[file_id] = (f"{folder}/file_{number}.{extension}", upload.content)
        return file_id, f"AQAD{number:06d}"

    # --- HTTP -----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        call = Call(method=method, params={}, headers=dict(request.headers))
        self.calls.append(call)
        try:
            return await self._handle(request, call, method)
        finally:
            call.answered = True

    async def _handle(self, request: web.Request, call: Call, method: str) -> web.StreamResponse:
        try:
            call.params, call.files = await _read_params(request)
            if request.match_info["token"] != self.token:
                raise TelegramError(401, "Unauthorized")
            if self.outage:
                raise TelegramError(502, "Bad Gateway")
            failure = self._take_failure(method)
            if failure is not None and failure.status == 0:
                call.status, call.description = 0, "connection dropped"
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            if failure is not None and failure.status == 429:
                raise TelegramError(
                    429,
                    f"Too Many Requests: retry after {failure.retry_after}",
                    {"retry_after": failure.retry_after},
                )
            if failure is not None:
                raise TelegramError(
                    failure.status,
                    "Bad Gateway" if failure.status == 502 else "Internal Server Error",
                )
            handler = self._handlers().get(method)
            if handler is None:
                raise TelegramError(404, "Not Found")
            result = handler(call.params, call.files)
            if isinstance(result, Awaitable):
                result = await result
            late = self._slow.get(method)
            if late:
                await asyncio.sleep(late.pop(0))
        except TelegramError as error:
            call.status, call.description = error.code, error.description
            return web.json_response(error.answer(), status=error.code)
        call.result = result
        if isinstance(result, dict) and "__shown__" in result:
            result = {k: v for k, v in result.items() if k != "__shown__"}
        return web.json_response({"ok": True, "result": result})

    def _take_failure(self, method: str) -> Failure | None:
        for key in (method, "*"):
            pending = self._failures.get(key)
            if pending:
                return pending.pop(0)
        return None

    async def _download(self, request: web.Request) -> web.Response:
        call = Call(method="file", params={"file_path": request.match_info["path"]}, answered=True)
        self.calls.append(call)
        if request.match_info["token"] != self.token:
            call.status = 401
            return web.json_response(TelegramError(401, "Unauthorized").answer(), status=401)
        for file_path, content in self.files.values():
            if file_path == request.match_info["path"]:
                return web.Response(body=content, content_type="application/octet-stream")
        call.status = 404
        return web.json_response(TelegramError(404, "Not Found").answer(), status=404)

    def _handlers(self) -> dict[str, Callable[..., Any]]:
        return {
            "getMe": lambda p, f: {
                **self.bot_user,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            },
            "logOut": lambda p, f: True,
            "close": lambda p, f: True,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": lambda p, f: self.commands.get(_command_key(p), []),
            "deleteMyCommands": lambda p, f: self.commands.pop(_command_key(p), None) or True,
            "setMyDescription": lambda p, f: True,
            "setMyShortDescription": lambda p, f: True,
            "setChatMenuButton": lambda p, f: True,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_text,
            "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "sendChatAction": self._send_chat_action,
        }

    # --- methods --------------------------------------------------------------------------

    def _set_my_commands(self, params: dict[str, Any], files: Any) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands list is invalid")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
        self.commands[_command_key(params)] = [dict(c) for c in commands]
        return True

    def _set_webhook(self, params: dict[str, Any], files: Any) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if not url:
            self.webhook = {}
            return True
        if not re.match(r"https?://", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {"url": url, "secret_token": secret}
        if params.get("allowed_updates") is not None:
            self._allowed_updates = set(params["allowed_updates"]) or set(DEFAULT_UPDATE_TYPES)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._notify()  # a waiting getUpdates now conflicts
        self._start_delivery()
        return True

    def _delete_webhook(self, params: dict[str, Any], files: Any) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _webhook_info(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
            "max_connections": 40,
            "allowed_updates": sorted(self._allowed_updates),
        }

    async def _get_updates(self, params: dict[str, Any], files: Any) -> list[dict[str, Any]]:
        if self.webhook:
            raise TelegramError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if params.get("allowed_updates") is not None:
            self._allowed_updates = set(params["allowed_updates"]) or set(DEFAULT_UPDATE_TYPES)
        if offset > 0:
            confirmed = [u["update_id"] for u in self._updates if u["update_id"] < offset]
            if confirmed and self.on_confirm is not None:
                self.on_confirm(confirmed)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # ends an older getUpdates with a conflict
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            wake = self._wake
            if generation != self._poll_generation:
                raise TelegramError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            if self.webhook:
                raise TelegramError(409, "Conflict: webhook is active")
            self._updates = [u for u in self._updates if _update_type(u) in self._allowed_updates]
            remaining = deadline - asyncio.get_running_loop().time()
            if self._updates or remaining <= 0 or self._closing:
                return self._updates[:limit]
            self.polls_waiting += 1
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), remaining)
            finally:
                self.polls_waiting -= 1

    def _sent(
        self, params: dict[str, Any], kind: str, text: str, source: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        chat = self.chats[int(params["chat_id"])]
        markup = inline_markup(check_reply_markup(params.get("reply_markup")))
        message: dict[str, Any] = {
            "message_id": self._take_message_id(int(chat["id"])),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
            **extra,
        }
        if params.get("message_thread_id"):  # posted in a forum's topic
            message["message_thread_id"] = int(params["message_thread_id"])
            message["is_topic_message"] = True
        if markup:
            message["reply_markup"] = markup
        shown = Shown(
            chat_id=int(chat["id"]),
            message_id=message["message_id"],
            from_bot=True,
            kind=kind,
            text=text,
            source=source,
            reply_markup=markup,
            message=message,
        )
        self._store(shown)
        # the record keeps a copy as sent; chat_view follows later edits
        snapshot = Shown(**{**shown.__dict__, "message": json.loads(json.dumps(message))})
        return {**message, "__shown__": snapshot}

    def _send_message(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        self._chat_for_sending(params)
        source = str(params.get("text") or "")
        text, entities = render_text(source, params.get("parse_mode"), caption=False)
        check_reply_markup(params.get("reply_markup"))
        extra: dict[str, Any] = {"text": text}
        if entities:
            extra["entities"] = entities
        return self._sent(params, "text", text, source, extra)

    def _caption(self, params: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        source = str(params.get("caption") or "")
        caption, entities = render_text(source, params.get("parse_mode"), caption=True)
        extra: dict[str, Any] = {}
        if caption:
            extra["caption"] = caption
        if entities:
            extra["caption_entities"] = entities
        return caption, source, extra

    def _upload(self, params: dict[str, Any], files: dict[str, Upload], name: str) -> Upload:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = None
            upload = files.get(params[name].removeprefix("attach://"))
        else:
            upload = files.get(name)
        if upload is not None:
            if not upload.content:
                raise bad_request("file must be non-empty")
            return upload
        if isinstance(value, str) and value in self.files:
            return Upload(self.files[value][0].rsplit("/", 1)[-1], "", self.files[value][1])
        if isinstance(value, str) and value:
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {name} in the request")

    def _send_photo(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        self._chat_for_sending(params)
        upload = self._upload(params, files, "photo")
        if not upload.content.startswith(IMAGE_MAGIC):
            raise bad_request("IMAGE_PROCESS_FAILED")
        caption, source, extra = self._caption(params)
        check_reply_markup(params.get("reply_markup"))
        file_id, unique = self._new_file(upload, "photos", "jpg")
        extra["photo"] = [
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_size": len(upload.content),
                "width": 800,
                "height": 600,
            }
        ]
        result = self._sent(params, "photo", caption, source, extra)
        result["__shown__"].content = upload.content
        self._messages[int(params["chat_id"])][result["message_id"]].content = upload.content
        return result

    def _send_document(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        self._chat_for_sending(params)
        upload = self._upload(params, files, "document")
        caption, source, extra = self._caption(params)
        check_reply_markup(params.get("reply_markup"))
        name = upload.filename or "file"
        file_id, unique = self._new_file(upload, "documents", name.rsplit(".", 1)[-1])
        extra["document"] = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": name,
            "mime_type": upload.content_type or "application/octet-stream",
            "file_size": len(upload.content),
        }
        result = self._sent(params, "document", caption, source, extra)
        result["__shown__"].content = upload.content
        self._messages[int(params["chat_id"])][result["message_id"]].content = upload.content
        return result

    def _editable(self, params: dict[str, Any]) -> Shown:
        shown = self._message_in(params, "message to edit not found")
        if not shown.from_bot:
            raise bad_request("message can't be edited")
        return shown

    def _apply_edit(
        self,
        shown: Shown,
        text: str,
        source: str,
        text_key: str,
        entities: list[dict[str, Any]],
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message = dict(shown.message)
        entity_key = "entities" if text_key == "text" else "caption_entities"
        before = (message.get(text_key, ""), message.get(entity_key, []), shown.reply_markup)
        if before == (text, entities, markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key in (text_key, entity_key, "reply_markup"):
            message.pop(key, None)
        if text:
            message[text_key] = text
        if entities:
            message[entity_key] = entities
        if markup:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        shown.message, shown.text, shown.source, shown.reply_markup = message, text, source, markup
        return message

    def _edit_text(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        shown = self._editable(params)
        if shown.kind != "text":
            raise bad_request("there is no text in the message to edit")
        source = str(params.get("text") or "")
        text, entities = render_text(source, params.get("parse_mode"), caption=False)
        markup = inline_markup(check_reply_markup(params.get("reply_markup")))
        return self._apply_edit(shown, text, source, "text", entities, markup)

    def _edit_caption(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        shown = self._editable(params)
        if shown.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        source = str(params.get("caption") or "")
        text, entities = render_text(source, params.get("parse_mode"), caption=True)
        markup = inline_markup(check_reply_markup(params.get("reply_markup")))
        return self._apply_edit(shown, text, source, "caption", entities, markup)

    def _edit_markup(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        shown = self._editable(params)
        markup = inline_markup(check_reply_markup(params.get("reply_markup")))
        text_key = "text" if shown.kind == "text" else "caption"
        entity_key = "entities" if text_key == "text" else "caption_entities"
        return self._apply_edit(
            shown,
            shown.message.get(text_key, ""),
            shown.source,
            text_key,
            shown.message.get(entity_key, []),
            markup,
        )

    def _delete_message(self, params: dict[str, Any], files: Any) -> bool:
        shown = self._message_in(params, "message to delete not found")
        del self._messages[shown.chat_id][shown.message_id]
        return True

    def _answer_callback(self, params: dict[str, Any], files: Any) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > MAX_ANSWER_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        return True

    def _get_file(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise bad_request("invalid file_id")
        file_path, content = self.files[file_id]
        if len(content) > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": "AQAD" + file_id[-8:],
            "file_size": len(content),
            "file_path": file_path,
        }

    def _get_chat(self, params: dict[str, Any], files: Any) -> dict[str, Any]:
        try:
            chat = self.chats.get(int(params.get("chat_id") or 0))
        except ValueError:
            chat = None
        if chat is None:
            raise bad_request("chat not found")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
            },
        }

    def _send_chat_action(self, params: dict[str, Any], files: Any) -> bool:
        self._chat_for_sending(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # --- webhook delivery -----------------------------------------------------------------

    def _start_delivery(self) -> None:
        if self.webhook and self._updates and (self._deliverer is None or self._deliverer.done()):
            self._deliverer = asyncio.create_task(self._deliver())

    async def _deliver(self) -> None:
        """Post queued updates to the webhook in order, like Telegram: retried until answered
        with a 2xx (here at most 20 tries, 0.1 s apart, then dropped)."""
        async with httpx.AsyncClient(timeout=10.0) as http:
            tries = 0
            while self._updates and self.webhook:
                update = self._updates[0]
                secret = self.webhook.get("secret_token")
                try:
                    response = await post_webhook(self.webhook["url"], update, secret, http=http)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                self.webhook_deliveries.append((update["update_id"], status))
                tries += 1
                if 200 <= status < 300 or tries >= 20:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    tries = 0
                else:
                    await asyncio.sleep(0.1)


def _command_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _update_type(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


def _convert(key: str, value: str) -> Any:
    if key in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            if key == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from None
            raise bad_request(f"can't parse {key} JSON object") from None
    if key in INT_FIELDS or key == "chat_id":
        with contextlib.suppress(ValueError):
            return int(value)
        if key != "chat_id":
            raise bad_request(f"invalid {key} specified")
    if key in BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The parameters of a Bot API call, from the query string and the body, typed."""
    strings: dict[str, str] = dict(request.query)
    files: dict[str, Upload] = {}
    params: dict[str, Any] = {}
    if request.content_type == "application/json":
        raw = await request.read()
        if raw:
            try:
                params = json.loads(raw)
            except ValueError:
                raise bad_request("can't parse JSON object") from None
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = Upload(value.filename, value.content_type, value.file.read())
            else:
                strings[key] = str(value)
    typed = {key: _convert(key, value) for key, value in strings.items()}
    typed.update(params)
    if isinstance(typed.get("chat_id"), str):
        typed["chat_id"] = _convert("chat_id", typed["chat_id"])
    return typed, files


async def post_webhook(
    url: str,
    update: dict[str, Any],
    secret: str | None = None,
    *,
    http: httpx.AsyncClient | None = None,
) -> httpx.Response:
    """POST an update to a bot's webhook as Telegram does (JSON, with the secret header)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = json.dumps(update).encode()
    if http is not None:
        return await http.post(url, content=body, headers=headers)
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.post(url, content=body, headers=headers)


def visible_text(source: str) -> str:
    """What Telegram shows for HTML `source` (raises like Telegram if it cannot parse it)."""
    return parse_html(source)[0]


def escape(text: str) -> str:
    """Text made safe for parse_mode HTML, as a bot must do with typed text."""
    return html.escape(text, quote=False)
