"""A fake Slack on 127.0.0.1: the Web API, response URLs, file downloads and Socket Mode.

It records every call (method, parsed body, when), checks Block Kit payloads with slack_sdk's
own models (an invalid payload is answered `invalid_blocks` and kept in `invalid`), and can be
told to answer 429 (with Retry-After) or 500 for the next N calls of a method.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import WSMsgType, web
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

BOT_USER = "U0BOT"
MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "respond"}
VIEW_METHODS = {"views.open", "views.publish", "views.update", "views.push"}


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int
    at: float = field(default_factory=time.monotonic)
    error: str | None = None  # what Slack answered instead of ok
    answer: dict[str, Any] = field(default_factory=dict)  # what Slack answered (a ts, say)

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.body.get("__invalid__") and self.error is None


def _parse_body(raw: bytes, content_type: str, query: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = dict(query)
    if not raw:
        return body
    if content_type.startswith("application/json"):
        body.update(json.loads(raw))
    elif content_type.startswith("application/x-www-form-urlencoded"):
        for key, values in parse_qs(raw.decode(), keep_blank_values=True).items():
            body[key] = values[0]
    else:
        body["__raw__"] = raw
        return body
    for key in ("blocks", "view", "attachments", "files", "metadata"):  # form posts: JSON strings
        if isinstance(body.get(key), str):
            with contextlib.suppress(ValueError):
                body[key] = json.loads(body[key])
    return body


def block_kit_problem(method: str, body: dict[str, Any]) -> str | None:
    """What slack_sdk's models say is wrong with the payload, or None."""
    try:
        if method in MESSAGE_METHODS and body.get("blocks"):
            if len(body["blocks"]) > 50:
                return "more than 50 blocks"
            for raw in body["blocks"]:
                block = Block.parse(raw)
                if block is None:
                    return f"unknown block {raw.get('type')}"
                block.validate_json()
        if method in VIEW_METHODS:
            View(**body["view"]).validate_json()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.invalid: list[tuple[str, str]] = []
        self.files: dict[str, bytes] = {}
        self.file_infos: dict[str, dict[str, Any]] = {}  # file id → what files.info answers
        # direct messages between people: the bot is no member, posting there fails
        self.foreign_dms: set[str] = set()
        self.history: dict[str, list[dict[str, Any]]] = {}  # channel → messages posted there
        # channels the bot was not invited to: posting there answers not_in_channel
        self.not_member: set[str] = set()
        # users whose account was deactivated: posting in their direct message answers
        # account_inactive
        self.deactivated: set[str] = set()
        # the bot token was revoked: every method answers token_revoked
        self.revoked = False
        self._failures: dict[str, list[int]] = {}
        # seconds chat.postMessage takes to answer after the message is posted: a sender that
        # dies meanwhile has sent it without learning so (a crash between send and "sent")
        self.slow = 0.0
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Socket Mode: envelopes to push to a connected client, and what it acknowledged
        self.socket_envelopes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.socket_acks: list[dict[str, Any]] = []
        self.socket_connected = asyncio.Event()

    # --- control ----------------------------------------------------------------------

    def fail(self, method: str, status: int, times: int = 1) -> None:
        """Answer `status` (429 or 500) to the next `times` calls of `method`."""
        self._failures.setdefault(method, []).extend([status] * times)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/respond/{name}"

    def file_url(self, name: str) -> str:
        return f"{self.url}/files/{name}"

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def posted(self, channel: str | None = None) -> list[Call]:
        """Successful chat.postMessage calls, optionally to one channel."""
        return [
            c
            for c in self.calls_to("chat.postMessage")
            if channel is None or c.body.get("channel") == channel
        ]

    def updated(self, channel: str) -> list[Call]:
        """Successful chat.update calls in one channel."""
        return [c for c in self.calls_to("chat.update") if c.body.get("channel") == channel]

    def responses(self, name: str) -> list[Call]:
        return [c for c in self.calls_to("respond") if c.body.get("__name__") == name]

    # --- lifecycle --------------------------------------------------------------------

    async def start(self, port: int = 0) -> FakeSlack:
        """Serve on `port` (a free one when 0); started again on its old port after `stop`,
        it is Slack back from an outage, with everything it recorded."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- handlers ---------------------------------------------------------------------

    async def _record(self, request: web.Request, method: str) -> Call:
        raw = await request.read()
        body = _parse_body(raw, request.content_type, dict(request.query))
        pending = self._failures.get(method)
        status = pending.pop(0) if pending else 200
        call = Call(method=method, body=body, headers=dict(request.headers), status=status)
        if status == 200:
            problem = block_kit_problem(method, body)
            if problem:
                self.invalid.append((method, problem))
                call.body["__invalid__"] = problem
        self.calls.append(call)
        return call

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = await self._record(request, method)
        if call.status == 429:
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        if call.status != 200:
            return web.Response(status=call.status, text="internal error")
        if call.body.get("__invalid__"):
            return web.json_response({"ok": False, "error": "invalid_blocks"})
        if method in MESSAGE_METHODS and call.body.get("channel") in self.foreign_dms:
            call.error = "channel_not_found"
            return web.json_response({"ok": False, "error": call.error})
        if self.revoked:
            call.error = "token_revoked"
            return web.json_response({"ok": False, "error": call.error})
        channel = str(call.body.get("channel") or "")
        if method in MESSAGE_METHODS and "U" + channel[1:] in self.deactivated:
            call.error = "account_inactive"
            return web.json_response({"ok": False, "error": call.error})
        if method in MESSAGE_METHODS and call.body.get("channel") in self.not_member:
            call.error = "not_in_channel"
            return web.json_response({"ok": False, "error": call.error})
        call.answer = self._answer(method, call.body)
        if self.slow and method == "chat.postMessage":
            await asyncio.sleep(self.slow)
        return web.json_response(call.answer)

    def _posted(self, body: dict[str, Any], ts: str) -> dict[str, Any]:
        """A message posted: kept in its channel's history, as conversations.history shows it."""
        message = {"type": "message", "ts": ts, "text": body.get("text"), "bot_id": "B0VANGNET"}
        if isinstance(body.get("metadata"), dict):
            message["metadata"] = body["metadata"]
        self.history.setdefault(str(body.get("channel")), []).append(message)
        return {"channel": body.get("channel"), "ts": ts}

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        """Newest first; metadata only when asked for (include_all_metadata), as Slack does."""
        with_metadata = str(body.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(body.get("limit") or 100)
        messages = list(reversed(self.history.get(str(body.get("channel")), [])))[:limit]
        if not with_metadata:
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        return {"messages": messages, "has_more": False}

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "auth.test": lambda: {
                "url": "https://vangnet-demo.slack.com/",
                "team": "Vangnet demo",
                "user": "vangnet",
                "team_id": "T0VANGNET",
                "user_id": BOT_USER,
                "bot_id": "B0VANGNET",
            },
            "conversations.open": lambda: {"channel": {"id": "D" + str(body["users"])[1:]}},
            "chat.postMessage": lambda: self._posted(body, ts),
            "conversations.history": lambda: self._history(body),
            "chat.postEphemeral": lambda: {"message_ts": ts},
            "chat.update": lambda: {"channel": body.get("channel"), "ts": body.get("ts")},
            "views.open": lambda: {"view": {"id": "V0MODAL", **(body.get("view") or {})}},
            "views.publish": lambda: {"view": {"id": "V0HOME", **(body.get("view") or {})}},
            "views.update": lambda: {"view": {"id": "V0MODAL", **(body.get("view") or {})}},
            "users.info": lambda: {"user": {"id": body.get("user"), "tz": "Europe/Amsterdam"}},
            "files.getUploadURLExternal": lambda: {
                "upload_url": f"{self.url}/upload/F0CHART",
                "file_id": "F0CHART",
            },
            "files.completeUploadExternal": lambda: {
                "files": [{"id": "F0CHART", "title": "chart"}]
            },
            "apps.connections.open": lambda: {"url": self.url.replace("http", "ws") + "/socket"},
        }
        if method == "files.info":
            info = self.file_infos.get(str(body.get("file")))
            return {"ok": True, "file": info} if info else {"ok": False, "error": "file_not_found"}
        answer = answers.get(method)
        if answer is None:
            return {"ok": False, "error": "unknown_method"}
        return {"ok": True, **answer()}

    async def _respond(self, request: web.Request) -> web.Response:
        call = await self._record(request, "respond")
        call.body["__name__"] = request.match_info["name"]
        if call.body.get("__invalid__"):
            return web.Response(status=400, text="invalid_blocks")
        return web.Response(text="ok")

    async def _file(self, request: web.Request) -> web.Response:
        call = await self._record(request, "files.download")
        name = request.match_info["name"]
        if call.headers.get("Authorization") != "Bearer xoxb-test-token":
            return web.Response(status=403, text="not_authed")
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="text/csv")

    async def _upload(self, request: web.Request) -> web.Response:
        await self._record(request, "files.upload")
        return web.Response(text="OK")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        self.socket_connected.set()

        async def push() -> None:
            while True:
                envelope = await self.socket_envelopes.get()
                await ws.send_json(envelope)

        pusher = asyncio.create_task(push())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
        finally:
            pusher.cancel()
        return ws


async def eventually(
    check: Callable[[], bool] | Callable[[], Awaitable[bool]], timeout: float = 8.0
) -> None:
    """Wait until `check()` holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
