"""Core replies as Teams messages: Adaptive Cards (version 1.5, what Teams renders) with the
buttons as Action.Submit, or plain text. Pure functions.

A reply that is only text is a plain message (`textFormat: plain`, shown as written). Anything
more (a title, fields, lines, buttons, a chart) is one card: the title as a bold heading, the
text, the fields as a FactSet, each line as a TextBlock, the chart as an image (a data URI;
one too large for a message is left out), and the buttons as the card's actions. A pressed
button comes back as a message whose `value` holds {"vangnet": action} (`action_of`). Card
text is Markdown in Teams: every text from the core (translated words and what people typed
alike) has Markdown's characters escaped, so a leaver named `*x*` shows literally.

Teams' limits used here: a message (card included) of about 28 KB; a card shows at most six
actions in a row, more go into its overflow menu (Teams does that itself).
"""

from __future__ import annotations

import base64
import re
from typing import Any

from bot.core.replies import Button, Reply

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ACTION_KEY = "vangnet"  # the key of an Action.Submit's data that holds the core's action
ERROR_MARK = "⚠️ "
MAX_LINES = 200  # TextBlocks of list lines in one card (stays well under 28 KB)
# a chart travels inside the card as a data URI, and the whole message may hold about 28 KB:
# a larger one is left out (the card's text says what it shows)
MAX_IMAGE_BYTES = 18_000

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|>~])")
_LIST_START = re.compile(r"^(\s*)(-|\d+\.)(\s)")


def escape(text: str) -> str:
    """Text for a card's TextBlock: Markdown's characters taken literally."""
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return _LIST_START.sub(r"\1\\\2\3", escaped)


def is_plain(reply: Reply) -> bool:
    """Whether the reply is text alone: sent as a plain message, not a card."""
    return not (reply.title or reply.fields or reply.lines or reply.buttons or reply.image_png)


def plain_text(reply: Reply) -> str:
    return (ERROR_MARK if reply.error else "") + reply.text


def card(reply: Reply) -> dict[str, Any]:
    """The Adaptive Card for `reply`."""
    body: list[dict[str, Any]] = []
    if reply.title:
        body.append(_block(reply.title, weight="Bolder", size="Medium"))
    if reply.text:
        text = (ERROR_MARK if reply.error else "") + reply.text
        body.append(_block(text, color="Attention" if reply.error else None))
    if reply.fields:
        body.append(
            {
                "type": "FactSet",
                "facts": [
                    {"title": escape(f.label), "value": escape(f.value)} for f in reply.fields
                ],
            }
        )
    for line in reply.lines[:MAX_LINES]:
        body.append(_block(line, spacing="Small"))
    if len(reply.lines) > MAX_LINES:
        body.append(_block("…", spacing="Small"))
    if reply.image_png and len(reply.image_png) <= MAX_IMAGE_BYTES:
        encoded = base64.b64encode(reply.image_png).decode("ascii")
        image: dict[str, Any] = {"type": "Image", "url": f"data:image/png;base64,{encoded}"}
        if reply.image_title:
            image["altText"] = reply.image_title
        body.append(image)
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
    }
    if reply.buttons:
        content["actions"] = [_action(b) for b in reply.buttons]
    return content


def attachment(reply: Reply) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": card(reply)}


def activity_body(reply: Reply) -> dict[str, Any]:
    """The message activity's fields for `reply` (type, text or the card attachment)."""
    if is_plain(reply):
        return {"type": "message", "text": plain_text(reply), "textFormat": "plain"}
    return {"type": "message", "attachments": [attachment(reply)]}


def action_of(value: Any) -> str | None:
    """The core's action a pressed card button sent back (an activity's `value`), if any."""
    if isinstance(value, dict):
        action = value.get(ACTION_KEY)
        if isinstance(action, str) and action:
            return action
    return None


def _block(text: str, **style: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": escape(text), "wrap": True}
    block.update({k: v for k, v in style.items() if v is not None})
    return block


def _action(button: Button) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": button.label,
        "data": {ACTION_KEY: button.action},
    }
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    return action
