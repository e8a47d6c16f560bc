"""One Telegram bot in webhook mode, in a process of its own, for the latency benchmark.

    python benchmarks/telegram_server.py vangnet|bare|bare-paced PORT API_ROOT [DB_URL REGION_FILE]

- vangnet: Vangnet's own server (`bot.handlers.serving.serve`, as `vangnet run`
  serves a webhook), on the database and region given;
- bare: a python-telegram-bot Application served the same way (aiohttp,
  `POST /telegram/webhook`, the secret header checked, each update put in the Application's
  queue, updates handled concurrently), whose handlers answer each message with one message
  and each button with answerCallbackQuery and one message; no rate limiter;
- bare-paced: the same with Vangnet's rate limiter (`bot.handlers.telegram.pace`).

Prints nothing; answers `GET /healthz` once it is up, and serves until terminated (SIGTERM).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SECRET = "bench-webhook-secret"
TOKEN = "123456789:AAbenchbenchbenchbenchbenchbenchben"


async def bare(port: int, api_root: str, *, paced: bool) -> None:
    from aiohttp import web
    from telegram import Update
    from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler
    from telegram.ext import filters as f
    from telegram.request import HTTPXRequest

    from bot.handlers.telegram.pace import TelegramPace

    builder = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{api_root}/bot")
        .base_file_url(f"{api_root}/file/bot")
        .request(HTTPXRequest(connection_pool_size=256))
        .concurrent_updates(True)
        .updater(None)
    )
    if paced:
        builder = builder.rate_limiter(TelegramPace())
    app = builder.build()

    async def message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "ok")

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None and update.effective_chat is not None
        await update.callback_query.answer()
        await context.bot.send_message(update.effective_chat.id, "ok")

    app.add_handler(MessageHandler(f.ALL, message))
    app.add_handler(CallbackQueryHandler(button))

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
            return web.Response(status=401)
        data = json.loads(await request.read())
        await app.update_queue.put(Update.de_json(data, app.bot))
        return web.Response(text="")

    web_app = web.Application()
    web_app.router.add_post("/telegram/webhook", webhook)
    web_app.router.add_get("/healthz", lambda _: web.Response(text="ok"))  # type: ignore[arg-type, return-value]
    async with app:
        await app.start()
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await _until_terminated()
        await runner.cleanup()
        await app.stop()


async def vangnet(port: int, api_root: str, db_url: str, region_file: str) -> None:
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
        slack_bot_token=None,
        telegram_bot_token=TOKEN,  # type: ignore[arg-type]
        telegram_api_url=api_root,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        telegram_webhook_secret=SECRET,  # type: ignore[arg-type]
        port=port,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await serve(core, settings, stop=stop, host="127.0.0.1", charts_in_worker=True)


async def _until_terminated() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


def main() -> None:
    mode, port, api_root, *rest = sys.argv[1:]
    for name in ("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_URL"):
        os.environ.pop(name, None)
    if mode == "vangnet":
        asyncio.run(vangnet(int(port), api_root, *rest))
    else:
        asyncio.run(bare(int(port), api_root, paced=mode == "bare-paced"))


if __name__ == "__main__":
    main()
