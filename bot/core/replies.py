"""Typed replies: what the core says, before any transport decides how it looks.

The core never formats for a platform. Text here is plain (no markup); each transport escapes
user-supplied text and renders titles, fields, lines and buttons its own way. Replies are
pydantic models so that the outbox can store them as JSON and send them later.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Button(BaseModel):
    """A button. Its label starts with a capital in every language: a word of the vocabulary
    that is lowercase in a sentence ("ja", "klaar", "gegeven") is "Ja", "Klaar", "Gegeven" on
    a button, beside "Terug" and "Annuleren"."""

    model_config = ConfigDict(frozen=True)

    label: str
    # A compact action string ("claim:K7F2"); it must fit Telegram's 64-byte callback data.
    action: str = Field(max_length=64)
    style: Literal["primary", "danger"] | None = None

    @field_validator("label")
    @classmethod
    def _capitalised(cls, label: str) -> str:
        return label[:1].upper() + label[1:]


class Item(BaseModel):
    """One label-value pair of a card."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str


class Reply(BaseModel):
    """A message: an optional title, text, fields, list lines and buttons.

    `file` is a document sent with the message (Slack: uploaded into the same chat;
    Telegram: a document; terminal: saved next to the database), named `file_name`;
    `file_case` is the case whose data the file holds (a privacy export), so that a copy a
    transport keeps of it until it is given (Teams asks the person's consent first) is
    erased with the case's personal details.

    `personal` is set when the message holds personal details of a young person; transports
    then only show it in a direct message, the App Home or an ephemeral message.

    `to_place` is set on a message for everyone in the place the command came from (a scan's
    voting message, its results, its agenda): the transport posts it visibly in that channel
    or group, not only to the person who typed or pressed. `updates` names such a message
    ("scan:12:f3"): a later reply with the same name is the same message changed (a new
    count of votes), which a transport that can edit its messages shows by editing the one it
    posted under that name (chat.update, editMessageText), and any other shows again.

    `asks_text` is set on a question that waits for typed text (a form question with no
    choices to press: a student number, a year of birth): a transport that presses buttons
    by typed numbers takes a number typed now as the answer.
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
    # a file that comes with the message (a privacy export), and its file name
    file: bytes | None = None
    file_name: str | None = None
    file_case: str | None = None
    to_place: bool = False
    updates: str | None = Field(default=None, max_length=64)
    asks_text: bool = False
