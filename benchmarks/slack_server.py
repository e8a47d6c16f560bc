"""One Slack app in HTTP mode, in a process of its own, for the latency benchmark.

    python benchmarks/slack_server.py vangnet|bare|bare-answer|bare-early PORT SLACK_API_URL \
        [DB_URL REGION_FILE]

- vangnet: Vangnet's own server (`bot.handlers.serving.serve`, as `vangnet run` serves
  HTTP mode), on the database and region given;
- bare: a slack-bolt AsyncApp served the same way (aiohttp, `POST /slack/events`, signature
  checked by bolt) whose listeners only acknowledge;
- bare-answer: the same, and the listener then answers through the response_url;
- bare-early: bare-answer whose route acknowledges a slash command or a button itself (its
  signature checked, an empty 200) and hands the request to bolt after, as Vangnet's route
  does (`bot.handlers.slack.server.events_route`): the fair baseline of Vangnet's ack.

Prints "ready" once it answers, and serves until it is terminated (SIGTERM).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"


async def bare(port: int, api_url: str, *, answer: bool, early: bool = False) -> None:
    import hashlib
    import hmac
    import time
    from urllib.parse import parse_qs

    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        process_before_response=False,
    )

    async def listener(ack, respond) -> None:  # type: ignore[no-untyped-def]
        await ack()
        if answer:
            await respond(text="ok", response_type="ephemeral", replace_original=False)

    app.command("/cases")(listener)
    app.command("/leavers")(listener)
    app.command("/case")(listener)
    app.action(re.compile(".*"))(listener)

    pending: set[asyncio.Task[object]] = set()

    async def events(request: web.Request) -> web.Response:
        if early:
            body = await request.read()
            timestamp = request.headers.get("X-Slack-Request-Timestamp", "0")
            base = b"v0:" + timestamp.encode() + b":" + body
            expected = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
            if abs(time.time() - int(timestamp)) > 300 or not hmac.compare_digest(
                expected, request.headers.get("X-Slack-Signature", "")
            ):
                return web.Response(status=401)
            form = parse_qs(body.decode())
            if "command" in form or "payload" in form:  # a slash command or a button
                task = asyncio.ensure_future(app.async_dispatch(await to_bolt_request(request)))
                pending.add(task)
                task.add_done_callback(pending.discard)
                return web.Response(status=200, text="")
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", lambda _: web.Response(text="ok"))  # type: ignore[arg-type, return-value]
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await _until_terminated()
    await runner.cleanup()


async def vangnet(port: int, api_url: str, db_url: str, region_file: str) -> None:
    from bot.config import Settings
    from bot.core.app import Core
    from bot.handlers.serving import serve
    from bot.region.file import load_region
    from bot.store import crypto
    from bot.store.db import make_engine

    crypto.use_keys([os.environ["VANGNET_SECRET_KEY"].encode()])  # set by benchmarks.builder
    region = load_region(region_file)
    core = Core(engine=make_engine(db_url), region=region, default_language="nl")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=TOKEN,  # type: ignore[arg-type]
        slack_signing_secret=SECRET,  # type: ignore[arg-type]
        slack_app_token=None,
        slack_api_url=api_url,
        port=port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await serve(core, settings, stop=stop, host="127.0.0.1", charts_in_worker=True)


async def _until_terminated() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


def main() -> None:
    mode, port, api_url, *rest = sys.argv[1:]
    os.environ.pop("SLACK_BOT_TOKEN", None)
    if mode == "vangnet":
        asyncio.run(vangnet(int(port), api_url, *rest))
    else:
        early = mode == "bare-early"
        asyncio.run(bare(int(port), api_url, answer=mode != "bare", early=early))


if __name__ == "__main__":
    main()
