"""Slack payloads as typed inbound events: small pure functions chosen from a table.

`translate(body)` always answers: one of the event types below, or `Unsupported` with the
reason (and logs it). Nothing is dropped silently, and no listener has to dig in raw
payloads. The recorded payloads these functions are tested against are in
`tests/handlers/slack/fixtures/`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.handlers.slack.render import ACTION_PREFIX

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class SlashCommand:
    user: str
    command: str  # "/claim"
    text: str  # "K7F2"
    channel: str
    response_url: str
    trigger_id: str

    @property
    def line(self) -> str:
        """The command as a person would type it in any transport."""
        return f"{self.command} {self.text}".strip()

    @property
    def name(self) -> str:
        return self.command.lstrip("/").casefold()


@dataclass(frozen=True)
class ButtonPress:
    user: str
    action: str  # the core's action string, "claim:K7F2"
    trigger_id: str
    channel: str | None  # where the message with the button is; None in a view
    response_url: str | None


@dataclass(frozen=True)
class FormSubmission:
    user: str
    callback_id: str
    values: dict[str, str]  # block id → the text typed, value chosen or date ("" when empty)
    private_metadata: str = ""
    unreadable: tuple[str, ...] = ()  # block ids whose input is of a type we cannot read


@dataclass(frozen=True)
class HomeOpened:
    user: str


@dataclass(frozen=True)
class SharedFile:
    id: str
    name: str
    filetype: str
    url_private: str | None  # None: ask files.info (a Slack Connect file comes without it)
    size: int


@dataclass(frozen=True)
class DirectMessage:
    user: str
    channel: str
    text: str
    files: tuple[SharedFile, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Unsupported:
    kind: str
    reason: str


Inbound = SlashCommand | ButtonPress | FormSubmission | HomeOpened | DirectMessage | Unsupported


class Malformed(ValueError):
    """A payload of a known kind that lacks what its kind always has."""


def _str(payload: Payload, *path: str) -> str:
    value: Any = payload
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            raise Malformed("missing " + ".".join(path))
        value = value[key]
    if not isinstance(value, str):
        raise Malformed(".".join(path) + " is not text")
    return value


def _opt(payload: Payload, *path: str) -> str | None:
    try:
        return _str(payload, *path)
    except Malformed:
        return None


SLACKBOT = "USLACKBOT"  # Slack's own bot: tips and reminders, in everyone's direct messages


def typed(text: str) -> str:
    """What a person typed: Slack sends `&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;` (and
    nothing else escaped); decoded once, `&amp;` last, so a typed `&lt;` stays `&lt;`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- one function per kind --------------------------------------------------------------------


def slash_command(body: Payload) -> Inbound:
    return SlashCommand(
        user=_str(body, "user_id"),
        command=_str(body, "command"),
        text=typed(_opt(body, "text") or "").strip(),
        channel=_str(body, "channel_id"),
        response_url=_str(body, "response_url"),
        trigger_id=_str(body, "trigger_id"),
    )


def block_actions(body: Payload) -> Inbound:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], Mapping):
        raise Malformed("missing actions")
    pressed: Payload = actions[0]
    action_id = _opt(pressed, "action_id") or ""
    value = _opt(pressed, "value")
    if pressed.get("type") != "button" or not action_id.startswith(ACTION_PREFIX) or not value:
        return Unsupported("block_actions", f"not one of our buttons: {pressed.get('type')}")
    channel = _opt(body, "channel", "id") or _opt(body, "container", "channel_id")
    if _opt(body, "container", "type") == "view":
        channel = None
    return ButtonPress(
        user=_str(body, "user", "id"),
        action=value,
        trigger_id=_str(body, "trigger_id"),
        channel=channel,
        response_url=_opt(body, "response_url"),
    )


def _input_value(state: Payload) -> str | None:
    """What one input holds: typed text, the value of the chosen option (several: joined
    with commas), the date picked (YYYY-MM-DD) or the Slack user picked; None for an input
    type we do not know."""
    kind = state.get("type")
    if kind == "plain_text_input":
        return (_opt(state, "value") or "").strip()
    if kind in ("static_select", "radio_buttons"):
        return _opt(state, "selected_option", "value") or ""
    if kind == "datepicker":
        return _opt(state, "selected_date") or ""
    if kind == "users_select":
        return _opt(state, "selected_user") or ""
    if kind == "multi_static_select":
        chosen = state.get("selected_options") or []
        return ",".join(str(o.get("value", "")) for o in chosen if isinstance(o, Mapping))
    log.info("slack: a modal input of type %s, which we cannot read", kind)
    return None


def view_submission(body: Payload) -> Inbound:
    values_by_block = body.get("view", {}).get("state", {}).get("values")
    if not isinstance(values_by_block, Mapping):
        raise Malformed("missing view.state.values")
    values: dict[str, str] = {}
    unreadable: list[str] = []
    for block_id, inputs in values_by_block.items():
        if not isinstance(inputs, Mapping) or len(inputs) != 1:
            raise Malformed(f"block {block_id} has no single input")
        (state,) = inputs.values()
        value = _input_value(state) if isinstance(state, Mapping) else None
        if value is None:
            unreadable.append(str(block_id))
        else:
            values[str(block_id)] = value
    return FormSubmission(
        user=_str(body, "user", "id"),
        callback_id=_str(body, "view", "callback_id"),
        values=values,
        private_metadata=_opt(body, "view", "private_metadata") or "",
        unreadable=tuple(unreadable),
    )


def app_home_opened(body: Payload) -> Inbound:
    if _opt(body, "event", "tab") != "home":
        return Unsupported("app_home_opened", "another tab than home")
    return HomeOpened(user=_str(body, "event", "user"))


CHECK_FILE_INFO = "check_file_info"  # Slack Connect: the file's details come from files.info


def shared_file(raw: Payload) -> SharedFile:
    """A file as a message event or files.info describes it."""
    size = raw.get("size", 0)
    if _opt(raw, "file_access") == CHECK_FILE_INFO:
        url: str | None = None
    else:
        url = _opt(raw, "url_private_download") or _str(raw, "url_private")
    return SharedFile(
        id=_str(raw, "id"),
        name=_opt(raw, "name") or "",
        filetype=_opt(raw, "filetype") or "",
        url_private=url,
        size=size if isinstance(size, int) else 0,
    )


def message(body: Payload) -> Inbound:
    event: Payload = body.get("event", {})
    if event.get("channel_type") != "im":
        return Unsupported("message", "not in a direct message")
    if event.get("bot_id") or event.get("subtype") == "bot_message":
        return Unsupported("message", "from a bot")
    if event.get("user") == SLACKBOT:
        return Unsupported("message", "from Slackbot")
    subtype = event.get("subtype")
    if subtype not in (None, "file_share"):
        return Unsupported("message", f"subtype {subtype}")
    files = event.get("files") or []
    if not isinstance(files, list):
        raise Malformed("files is not a list")
    return DirectMessage(
        user=_str(event, "user"),
        channel=_str(event, "channel"),
        text=typed(_opt(event, "text") or "").strip(),
        files=tuple(shared_file(f) for f in files if isinstance(f, Mapping)),
    )


TRANSLATORS: dict[str, Callable[[Payload], Inbound]] = {
    "slash_command": slash_command,
    "block_actions": block_actions,
    "view_submission": view_submission,
    "event:app_home_opened": app_home_opened,
    "event:message": message,
}


def kind_of(body: Payload) -> str:
    """Which kind of payload this is: the key of TRANSLATORS, or a name for the log."""
    if "command" in body and "response_url" in body:
        return "slash_command"
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        return f"event:{event.get('type') if isinstance(event, Mapping) else None}"
    return str(kind)


def translate(body: Payload) -> Inbound:
    """The inbound event in `body`, or Unsupported (logged) — never None."""
    kind = kind_of(body)
    translator = TRANSLATORS.get(kind)
    try:
        outcome = translator(body) if translator else Unsupported(kind, "no translator")
    except Malformed as problem:
        outcome = Unsupported(kind, f"malformed: {problem}")
    if isinstance(outcome, Unsupported):
        log.info("slack: unsupported %s (%s)", outcome.kind, outcome.reason)
    return outcome
