"""Core replies as Telegram messages: HTML parse mode and inline keyboards. Pure functions.

Every text from the core (translated words and what people typed alike) goes through
`html.escape`, so a leaver named `<b>` or `&amp;` shows literally and never breaks the markup.
A message is built from lines, each escaped and tagged on its own, so a message split on line
boundaries is never cut inside a tag or an entity.

Telegram's limits used here (https://core.telegram.org/bots/api#sendmessage): a message holds
4,096 characters and a caption 1,024, counted after entity parsing in UTF-16 code units (an
emoji outside the basic plane counts as two); callback data holds 1-64 bytes; a keyboard at
most 100 buttons. A reply longer than a message becomes several messages, its buttons on the
last; a line longer than a message is split at a space where it can be. A chart is a photo
with the reply as caption when that fits, else with a short caption and the reply after it.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode

from bot.core.replies import Button, Reply

PARSE_MODE = ParseMode.HTML
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_KEYBOARD = 100  # buttons per message
MAX_ROW_BUTTONS = 3
MAX_ROW_LABELS = 30  # characters of labels side by side before a new row starts
ERROR_MARK = "⚠️ "
BULLET = "• "
MORE = "…"  # the text of a message that only carries buttons beyond the first hundred

# action → callback data (the action itself, or a stored token: see callbacks.callback_data)
CallbackData = Callable[[str], str]


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Text for Telegram's HTML: `&`, `<` and `>` as entities (quotes need none outside tags)."""
    return html.escape(text, quote=False)


@dataclass(frozen=True)
class TelegramMessage:
    """One message as sendMessage wants it, or sendPhoto when `photo` is set (then `text` is
    the caption, possibly empty), or sendDocument when `document` is (a file, named
    `document_name`, without caption). `text` is HTML: send it with parse_mode=PARSE_MODE."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    photo: bytes | None = None
    document: bytes | None = None
    document_name: str | None = None


# --- lines ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    text: str  # raw, unescaped
    bold: bool = False


_Line = tuple[_Span, ...]


def _units(line: _Line) -> int:
    return sum(utf16_len(span.text) for span in line)


def _html(line: _Line) -> str:
    return "".join(f"<b>{escape(s.text)}</b>" if s.bold else escape(s.text) for s in line if s.text)


def _reply_lines(reply: Reply) -> list[_Line]:
    """The reply as lines: title (bold), text, fields (bold label), list lines; a blank line
    between the parts."""
    parts: list[list[_Line]] = []
    if reply.title and reply.title.strip():
        parts.append([(_Span(line, bold=True),) for line in reply.title.strip().split("\n")])
    if reply.text.strip():
        parts.append([(_Span(line),) for line in reply.text.strip("\n").split("\n")])
    if reply.fields:
        parts.append([(_Span(f.label, bold=True), _Span(": " + f.value)) for f in reply.fields])
    if reply.lines:
        parts.append([(_Span(BULLET + line),) for line in reply.lines])
    lines: list[_Line] = []
    for part in parts:
        if lines:
            lines.append(())
        lines += part
    if reply.error and lines:
        lines[0] = (_Span(ERROR_MARK), *lines[0])
    return lines


def _split_line(line: _Line, limit: int) -> list[_Line]:
    """A line of more than `limit` units as lines of at most `limit`, cut after a space in the
    second half of a piece when there is one, else where the limit falls."""
    chars = [(ch, span.bold) for span in line for ch in span.text]
    pieces: list[list[tuple[str, bool]]] = []
    current: list[tuple[str, bool]] = []
    size = 0
    for ch, bold in chars:
        width = utf16_len(ch)
        if current and size + width > limit:
            cut = next(
                (
                    i + 1
                    for i in range(len(current) - 1, len(current) // 2, -1)
                    if current[i][0] == " "
                ),
                len(current),
            )
            pieces.append(current[:cut])
            current = current[cut:]
            size = sum(utf16_len(c) for c, _ in current)
        current.append((ch, bold))
        size += width
    pieces.append(current)
    return [_spans(piece) for piece in pieces if piece]


def _spans(chars: list[tuple[str, bool]]) -> _Line:
    spans: list[_Span] = []
    for ch, bold in chars:
        if spans and spans[-1].bold == bold:
            spans[-1] = _Span(spans[-1].text + ch, bold)
        else:
            spans.append(_Span(ch, bold))
    return tuple(spans)


def _chunks(lines: Sequence[_Line], limit: int) -> list[str]:
    """Lines packed into HTML texts of at most `limit` visible units each, split only between
    lines; blank lines at the edge of a chunk are dropped, and so are chunks with nothing."""
    chunks: list[list[_Line]] = []
    current: list[_Line] = []
    size = 0
    for whole in lines:
        for line in _split_line(whole, limit) if _units(whole) > limit else [whole]:
            units = _units(line)
            if current and size + 1 + units <= limit:
                current.append(line)
                size += 1 + units
                continue
            if current:
                chunks.append(current)
            current, size = ([line], units) if units else ([], 0)  # no chunk starts blank
    chunks.append(current)
    texts = []
    for chunk in chunks:
        while chunk and not _units(chunk[-1]):
            chunk = chunk[:-1]
        text = "\n".join(_html(line) for line in chunk)
        if chunk and "".join(s.text for line in chunk for s in line).strip():
            texts.append(text)
    return texts


# --- keyboards --------------------------------------------------------------------------------


def _button(button: Button, callback_data: CallbackData) -> InlineKeyboardButton:
    # Button text is plain text on Telegram (never parsed), so it needs no escaping; Telegram
    # has no button styles, so primary and danger look like any other button.
    return InlineKeyboardButton(
        text=button.label.strip() or MORE, callback_data=callback_data(button.action)
    )


def _rows(buttons: Sequence[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    """Up to three buttons side by side while their labels are short; long ones alone."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        row = rows[-1] if rows else None
        if (
            row is not None
            and len(row) < MAX_ROW_BUTTONS
            and sum(len(b.text) for b in row) + len(button.text) <= MAX_ROW_LABELS
        ):
            row.append(button)
        else:
            rows.append([button])
    return rows


def keyboards(buttons: Sequence[Button], callback_data: CallbackData) -> list[InlineKeyboardMarkup]:
    """The buttons as inline keyboards of at most 100 buttons each (usually one, or none)."""
    made = [_button(b, callback_data) for b in buttons]
    return [
        InlineKeyboardMarkup(_rows(made[i : i + MAX_KEYBOARD]))
        for i in range(0, len(made), MAX_KEYBOARD)
    ]


# --- a reply as messages ----------------------------------------------------------------------


def _with_buttons(
    messages: list[TelegramMessage], markups: list[InlineKeyboardMarkup]
) -> list[TelegramMessage]:
    """The first keyboard on the last message; any further ones on messages of their own."""
    if not markups:
        return messages
    last = messages[-1]
    messages = [
        *messages[:-1],
        TelegramMessage(text=last.text, reply_markup=markups[0], photo=last.photo),
    ]
    return messages + [TelegramMessage(text=MORE, reply_markup=m) for m in markups[1:]]


def render(reply: Reply, *, callback_data: CallbackData) -> list[TelegramMessage]:
    """A reply as one or more messages to send in order; buttons on the last, and the
    reply's file (if any) as a document after them.

    `callback_data` turns a button's action into what the button carries (see
    `callbacks.callback_data`, which stores an action that does not fit 64 bytes)."""
    messages = _render(reply, callback_data=callback_data)
    if reply.file is not None:
        name = reply.file_name or "vangnet.txt"
        messages.append(TelegramMessage(text="", document=reply.file, document_name=name))
    return messages


def _render(reply: Reply, *, callback_data: CallbackData) -> list[TelegramMessage]:
    lines = _reply_lines(reply)
    markups = keyboards(reply.buttons, callback_data)
    if reply.image_png is not None:
        captions = _chunks(lines, MAX_CAPTION)
        if len(captions) <= 1:
            caption = captions[0] if captions else ""
            return _with_buttons([TelegramMessage(text=caption, photo=reply.image_png)], markups)
        label = reply.image_title or reply.title or ""
        short = _chunks([(_Span(label, bold=True),)], MAX_CAPTION) if label.strip() else []
        photo = TelegramMessage(text=short[0] if short else "", photo=reply.image_png)
        texts = [TelegramMessage(text=t) for t in _chunks(lines, MAX_TEXT)]
        return _with_buttons([photo, *texts], markups)
    texts = [TelegramMessage(text=t) for t in _chunks(lines, MAX_TEXT)]
    if not texts:
        if not markups:
            return []
        texts = [TelegramMessage(text=MORE)]
    return _with_buttons(texts, markups)
