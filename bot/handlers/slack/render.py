"""Core replies as Slack Block Kit, built as plain dicts. Pure functions.

The blocks are the JSON Slack takes, written directly: slack_sdk's block models validate
every element as it is built and again when turned into JSON, which was about half of the
server's work for a reply (issue 28). The tests parse every rendered block back through
slack_sdk's models and validate it there (tests/slack/test_render.py), so the shape stays
Block Kit's.

Every user-supplied text that lands in mrkdwn has `&`, `<` and `>` escaped, so a student
reference like `<!channel>` or `<@U123>` shows as text and never pings anyone. Block Kit's
limits are respected by splitting, never by cutting content: a long text becomes several
sections, a long reply several messages (pages). Only a button label longer than Slack's 75
characters is shortened, visibly, with an ellipsis.

Slack's limits used here (https://docs.slack.dev/reference/block-kit/blocks):
50 blocks per message, 100 per view; 3000 characters of section text; 10 fields per section
and 2000 characters per field; 25 elements per actions block; 75 characters per button text;
150 characters per header; 24 characters for a modal's title, submit and close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.replies import Button, Item, Reply
from bot.handlers.common.paging import pages

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_ACTIONS = 25
MAX_BUTTON_TEXT = 75
MAX_HEADER = 150
MAX_OPTION_TEXT = 75
MAX_VIEW_TITLE = 24
MAX_INPUT_LABEL = 2000
# The fallback `text` is what notifications and screen readers show; the blocks hold it all.
MAX_FALLBACK = 150
ACTION_PREFIX = "vangnet:"
MAX_PRIVATE_METADATA = 3000
ERROR_MARK = ":warning: "

# One Block Kit block (or element, or text object) as Slack's JSON.
Block = dict[str, Any]


def escape(text: str) -> str:
    """Escape text for Slack mrkdwn: only &, < and > have to be (Slack's own advice)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """For the few places Slack allows no splitting (button text, titles): a visible cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class SlackMessage:
    """One message as Slack's chat.postMessage (or response_url) wants it."""

    text: str
    blocks: list[Block]

    def blocks_json(self) -> list[dict[str, Any]]:
        """The blocks as JSON (they are built as JSON; the tests validate them)."""
        return self.blocks


# --- splitting text ---------------------------------------------------------------------------


def _split_line(raw: str, limit: int) -> list[str]:
    """One raw line as escaped parts of at most `limit` characters, cut at a space if possible.

    Splitting happens on the raw characters so that an entity like `&amp;` is never cut.
    """
    whole = escape(raw)
    if len(whole) <= limit:  # nearly every line: no need to go character by character
        return [whole]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for ch in raw:
        escaped = escape(ch)
        if size + len(escaped) > limit:
            cut = _last_space(current)
            if cut > 0:
                parts.append("".join(current[:cut]))
                current = current[cut:]
            else:
                parts.append("".join(current))
                current = []
            size = sum(len(c) for c in current)
        current.append(escaped)
        size += len(escaped)
    parts.append("".join(current))
    return parts


def _last_space(tokens: list[str]) -> int:
    """Index just after the last space in the second half of `tokens`, or 0."""
    for i in range(len(tokens) - 1, len(tokens) // 2, -1):
        if tokens[i] == " ":
            return i + 1
    return 0


def split_mrkdwn(raw: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Raw text as escaped mrkdwn pieces of at most `limit` characters, split at line ends."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in raw.split("\n"):
        for part in _split_line(line, limit):
            extra = len(part) + (1 if current else 0)
            if current and size + extra > limit:
                pieces.append("\n".join(current))
                current, size, extra = [], 0, len(part)
            current.append(part)
            size += extra
    if current:
        pieces.append("\n".join(current))
    return [p for p in pieces if p.strip()]


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def plain_text(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": False}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


# --- a reply as blocks ------------------------------------------------------------------------


def _title_blocks(title: str | None) -> list[Block]:
    if not title or not title.strip():
        return []
    if len(title) <= MAX_HEADER:
        # plain_text is never parsed for mentions, so the title needs no escaping here
        return [{"type": "header", "text": plain_text(title)}]
    return [section(f"*{piece}*") for piece in split_mrkdwn(title, MAX_SECTION_TEXT - 2)]


def _text_blocks(reply: Reply) -> list[Block]:
    text = reply.text
    if not text.strip():
        return []
    pieces = split_mrkdwn(text, MAX_SECTION_TEXT - len(ERROR_MARK))
    if reply.error and pieces:
        pieces[0] = ERROR_MARK + pieces[0]
    return [section(p) for p in pieces]


def _field_text(item: Item) -> str:
    return f"*{escape(item.label)}*\n{escape(item.value)}"


def _field_blocks(fields: Sequence[Item]) -> list[Block]:
    """Short fields two by two in sections of at most ten; a long one as its own section(s)."""
    blocks: list[Block] = []
    batch: list[Block] = []

    def flush() -> None:
        if batch:
            blocks.append({"type": "section", "fields": list(batch)})
            batch.clear()

    for item in fields:
        text = _field_text(item)
        if len(text) <= MAX_FIELD_TEXT:
            batch.append(mrkdwn(text))
            if len(batch) == MAX_FIELDS:
                flush()
            continue
        flush()
        head = f"*{escape(item.label)}*\n"
        for n, piece in enumerate(split_mrkdwn(item.value, MAX_SECTION_TEXT - len(head))):
            blocks.append(section(head + piece if n == 0 else piece))
    flush()
    return blocks


def _line_blocks(lines: Sequence[str]) -> list[Block]:
    if not lines:
        return []
    text = "\n".join(f"• {line}" for line in lines)
    return [section(p) for p in split_mrkdwn(text)]


def _button_blocks(buttons: Sequence[Button], first: int = 0) -> list[Block]:
    elements = [_button(b, f"{ACTION_PREFIX}{first + n}") for n, b in enumerate(buttons)]
    return [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS]}
        for i in range(0, len(elements), MAX_ACTIONS)
    ]


def _button(button: Button, action_id: str) -> Block:
    element: Block = {
        "type": "button",
        "text": plain_text(shorten(button.label, MAX_BUTTON_TEXT)),
        "action_id": action_id,
        "value": button.action,
    }
    if button.style is not None:
        element["style"] = button.style
    return element


def reply_blocks(reply: Reply, *, first_button: int = 0) -> list[Block]:
    """All blocks of a reply, not yet paged."""
    return (
        _title_blocks(reply.title)
        + _text_blocks(reply)
        + _field_blocks(reply.fields)
        + _line_blocks(reply.lines)
        + _button_blocks(reply.buttons, first_button)
    )


def fallback_text(reply: Reply) -> str:
    """A one-line summary for notifications: escaped, like everything in mrkdwn."""
    candidates = [reply.title or "", *reply.text.split("\n")]
    candidates += [f"{i.label}: {i.value}" for i in reply.fields] + list(reply.lines)
    first = next((c.strip() for c in candidates if c.strip()), "Vangnet")
    text = ("⚠ " if reply.error else "") + shorten(first, MAX_FALLBACK)
    return escape(text)


def render(reply: Reply) -> list[SlackMessage]:
    """A reply as one message, or as several pages when it has more than 50 blocks."""
    blocks = reply_blocks(reply)
    summary = fallback_text(reply)
    if len(blocks) <= MAX_BLOCKS:
        return [SlackMessage(text=summary, blocks=blocks)]
    # one block per page says which page it is
    paged = pages(blocks, max_items=MAX_BLOCKS - 1)
    total = len(paged)
    return [
        SlackMessage(
            text=f"{summary} ({n}/{total})",
            blocks=[*page, context(f"{n}/{total}")],
        )
        for n, page in enumerate(paged, start=1)
    ]


# --- views ------------------------------------------------------------------------------------


def home_view(replies: Sequence[Reply], *, more: str) -> dict[str, Any]:
    """The App Home tab: the person's own view. `more` is said when it does not all fit."""
    blocks: list[Block] = []
    buttons = 0
    for n, reply in enumerate(replies):
        if n:
            blocks.append({"type": "divider"})
        blocks += reply_blocks(reply, first_button=buttons)
        buttons += len(reply.buttons)
    if not blocks:
        blocks = [section(escape(more))]
    if len(blocks) > MAX_VIEW_BLOCKS:
        blocks = blocks[: MAX_VIEW_BLOCKS - 1]
        blocks.append(context(escape(more)))
    return {"type": "home", "blocks": blocks}
