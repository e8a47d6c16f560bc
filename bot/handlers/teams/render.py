"""Core replies as Teams messages: Adaptive Cards (version 1.5, what Teams renders) with the
buttons as Action.Submit, or plain text. Pure functions.

A reply that is only text is a plain message (`textFormat: plain`, shown as written). Anything
more (a title, fields, lines, buttons) is one card: the title as a bold heading, the text,
the fields as a FactSet, each line as a TextBlock, and the buttons as the card's actions. A
chart (the digest's) follows in a message of its own, as an inline image (a data URI), when it
fits Teams' message limit (`chart`); a larger one is not shown (the sender says so). A file
(`Reply.file`) is offered with a consent card (`consent_card`, `files`). A pressed
button comes back as a message whose `value` holds {"vangnet": action} (`action_of`). Card
text is Markdown in Teams: every text from the core (translated words and what people typed
alike) has Markdown's characters escaped, so a leaver named `*x*` shows literally.

Teams' limits used here: a message of about 100 KB (80 KB is what Microsoft advises to stay
under); a card shows at most six actions in a row, more go into its overflow menu (Teams does
that itself).
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
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
OFFER_KEY = "vangnet_file"  # the key of a consent card's context that holds the offer's id
MAX_LINES = 200  # TextBlocks of list lines in one card (stays well under 28 KB)
# a chart travels as a data URI in a message of its own, which may hold about 100 KB: a PNG
# up to this size stays under 100 KB once base64 makes it a third larger
MAX_IMAGE_BYTES = 72_000

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|>~])")
_LIST_START = re.compile(r"^(\s*)(-|\d+\.)(\s)")


def escape(text: str) -> str:
    """Text for a card's TextBlock: Markdown's characters taken literally."""
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return _LIST_START.sub(r"\1\\\2\3", escaped)


def is_plain(reply: Reply) -> bool:
    """Whether the reply is text alone: sent as a plain message, not a card."""
    return not (reply.title or reply.fields or reply.lines or reply.buttons)


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


def chart(reply: Reply) -> dict[str, Any] | None:
    """The message showing the reply's chart as an inline image; None when it has none, or
    one too large for a Teams message."""
    if not reply.image_png or len(reply.image_png) > MAX_IMAGE_BYTES:
        return None
    encoded = base64.b64encode(reply.image_png).decode("ascii")
    image: dict[str, Any] = {
        "contentType": "image/png",
        "contentUrl": f"data:image/png;base64,{encoded}",
        "name": (reply.image_title or "chart") + ".png",
    }
    return {"type": "message", "attachments": [image]}


def consent_card(name: str, size: int, description: str, offer_id: int) -> dict[str, Any]:
    """The card asking the person's consent to put a file (`name`, `size` bytes) in their
    OneDrive; their answer comes back with the offer's id (`files`)."""
    return {
        "contentType": CONSENT_CARD,
        "name": name,
        "content": {
            "description": description,
            "sizeInBytes": size,
            "acceptContext": {OFFER_KEY: offer_id},
            "declineContext": {OFFER_KEY: offer_id},
        },
    }


def file_card(upload_info: dict[str, Any], name: str) -> dict[str, Any]:
    """The card showing a file put in the person's OneDrive (from the consent's uploadInfo)."""
    return {
        "contentType": FILE_INFO_CARD,
        "contentUrl": upload_info.get("contentUrl"),
        "name": name,
        "content": {
            "uniqueId": upload_info.get("uniqueId"),
            "fileType": upload_info.get("fileType"),
        },
    }


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
