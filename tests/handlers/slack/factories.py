"""Slack requests as Slack sends them: recorded payloads (fixtures/) with the parts that vary
filled in, and signed the way Slack signs them."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-signing-secret"
FORM = "application/x-www-form-urlencoded"
_ids = itertools.count(1)


@cache
def _fixture(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded payload."""
    return json.loads(_fixture(name))


def slack_escaped(text: str) -> str:
    """Typed text as Slack sends it: `&`, `<` and `>` escaped, nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class SlackRequest:
    body: str
    content_type: str


def signed_request(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack adds: a timestamp and the v0 HMAC-SHA256 signature of the body."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def make_slash_command(
    line: str,
    *,
    user: str,
    channel: str = "C0NETWERK",
    response_url: str = "https://hooks.slack.com/commands/T0VANGNET/1/x",
    trigger_id: str | None = None,
) -> SlackRequest:
    command, _, text = line.strip().partition(" ")
    payload = fixture("slash_command")
    payload.update(
        command=command,
        text=slack_escaped(text.strip()),
        user_id=user,
        user_name=user.lower(),
        channel_id=channel,
        channel_name="directmessage" if channel.startswith("D") else "netwerk",
        response_url=response_url,
        trigger_id=trigger_id or f"trigger-{next(_ids)}",
    )
    return SlackRequest(urlencode(payload), FORM)


def make_block_action(
    action: str,
    *,
    user: str,
    channel: str | None = None,
    response_url: str | None = None,
    action_id: str = "vangnet:0",
    trigger_id: str | None = None,
    ephemeral: bool = False,
) -> SlackRequest:
    """A button pressed in a message in `channel` (an ephemeral one: only the presser saw it),
    or in the App Home when channel is None."""
    name = "block_actions_ephemeral_dm" if ephemeral else "block_actions"
    payload = fixture(name if channel else "block_actions_home")
    payload["user"]["id"] = user
    payload["user"]["username"] = payload["user"]["name"] = user.lower()
    payload["trigger_id"] = trigger_id or f"trigger-{next(_ids)}"
    payload["actions"][0].update(value=action, action_id=action_id)
    if channel:
        payload["channel"]["id"] = payload["container"]["channel_id"] = channel
        if response_url:
            payload["response_url"] = response_url
        else:
            payload.pop("response_url")
    return SlackRequest(urlencode({"payload": json.dumps(payload)}), FORM)


def make_view_submission(
    view: dict[str, Any],
    values: dict[str, str],
    *,
    user: str,
    states: dict[str, dict[str, Any]] | None = None,
) -> SlackRequest:
    """Submit the modal `view` (as the app opened it) with `values` per block id; `states`
    gives the raw state of a block instead (an input of another type, say)."""
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        value = values.get(block_id)
        if element["type"] == "static_select":
            chosen = None
            if value:
                chosen = next((o for o in element["options"] if o["value"] == value), None)
                if chosen is None:
                    raise ValueError(f"{value!r} is not an option of {block_id}")
            entry = {"type": "static_select", "selected_option": copy.deepcopy(chosen)}
        elif element["type"] == "datepicker":
            entry = {"type": "datepicker", "selected_date": value or None}
        else:
            entry = {"type": element["type"], "value": value or None}
        state[block_id] = {element["action_id"]: (states or {}).get(block_id, entry)}
    payload = fixture("view_submission")
    payload["user"]["id"] = user
    payload["view"].update(
        callback_id=view["callback_id"],
        blocks=view["blocks"],
        private_metadata=view.get("private_metadata", ""),
        state={"values": state},
    )
    return SlackRequest(urlencode({"payload": json.dumps(payload)}), FORM)


def _event(name: str, event: dict[str, Any], event_id: str | None) -> SlackRequest:
    payload = fixture(name)
    payload["event"].update(event)
    payload["event_id"] = event_id or f"Ev{next(_ids):08d}"
    return SlackRequest(json.dumps(payload), "application/json")


def make_dm(
    text: str, *, user: str, channel: str | None = None, event_id: str | None = None
) -> SlackRequest:
    return _event(
        "message_im",
        {"text": slack_escaped(text), "user": user, "channel": channel or "D" + user[1:]},
        event_id,
    )


def make_file_dm(
    url: str,
    *,
    user: str,
    name: str = "leerlingen.csv",
    event_id: str | None = None,
    text: str = "",
    size: int | None = None,
) -> SlackRequest:
    """A file shared in a direct message, with the message typed with it (`text`)."""
    payload = fixture("message_im_file_share")
    file = payload["event"]["files"][0]
    file.update(name=name, title=name, url_private=url, url_private_download=url, user=user)
    file["filetype"] = name.rpartition(".")[2].lower()
    if size is not None:
        file["size"] = size
    return _event(
        "message_im_file_share",
        {"user": user, "channel": "D" + user[1:], "files": [file], "text": text},
        event_id,
    )


def make_connect_file_dm(file_id: str, *, user: str, event_id: str | None = None) -> SlackRequest:
    """A file shared over Slack Connect: no name, no address; files.info has them."""
    payload = fixture("message_im_connect_file_share")
    file = payload["event"]["files"][0] | {"id": file_id}
    return _event(
        "message_im_connect_file_share",
        {"user": user, "channel": "D" + user[1:], "files": [file]},
        event_id,
    )


def make_home_opened(user: str, *, event_id: str | None = None) -> SlackRequest:
    return _event("app_home_opened", {"user": user, "channel": "D" + user[1:]}, event_id)
