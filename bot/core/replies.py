"""Typed replies: what the core says, before any transport decides how it looks.

The core never formats for a platform. Text here is plain (no markup); each transport escapes
user-supplied text and renders titles, fields, lines and buttons its own way. Replies are
pydantic models so that the outbox can store them as JSON and send them later.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Button(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    # A compact action string ("claim:K7F2"); it must fit Telegram's 64-byte callback data.
    action: str = Field(max_length=64)
    style: Literal["primary", "danger"] | None = None


class Item(BaseModel):
    """One label-value pair of a card."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str


class Reply(BaseModel):
    """A message: an optional title, text, fields, list lines and buttons.

    `personal` is set when the message holds personal details of a young person; transports
    then only show it in a direct message, the App Home or an ephemeral message.
    """

    # Images travel through the outbox as JSON: base64 both ways.
    model_config = ConfigDict(frozen=True, ser_json_bytes="base64", val_json_bytes="base64")

    title: str | None = None
    text: str = ""
    fields: list[Item] = Field(default_factory=list)
    lines: list[str] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    personal: bool = False
    error: bool = False
    image_png: bytes | None = None
    image_title: str | None = None
