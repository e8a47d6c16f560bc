"""One Teams bot, in a process of its own, for the latency benchmark.

    python benchmarks/teams_server.py vangnet|bare PORT [DB_URL REGION_FILE]

Both reach the local Microsoft of the tests (tests/handlers/teams/rig.py, run by the bench
process) through HTTPS_PROXY, SSL_CERT_FILE and REQUESTS_CA_BUNDLE with its throw-away CA, as
the given environment says; the bot's id, secret and tenant are the rig's.

- vangnet: Vangnet's own server (`bot.handlers.serving.serve`, as `vangnet run` serves
  Teams), on the database and region given;
- bare: an Agents SDK 1.9 app served the same way (aiohttp, `POST /api/messages`): the
  SDK's `jwt_authorization_middleware` validating the bearer token its own way (keys from
  login.botframework.com), the SDK's `CloudAdapter` with MSAL (the outgoing token from
  login.microsoftonline.com), and an `ActivityHandler` that answers every message (a typed
  line or a card's button) with one short text.

Prints nothing; answers `GET /healthz` once it is up, and serves until terminated (SIGTERM).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.handlers.teams.rig import APP_ID, TENANT

SECRET = "client-secret"  # what the rig's token endpoint takes from APP_ID


async def bare(port: int) -> None:
    from aiohttp import web
    from microsoft_agents.activity import TurnContextProtocol
    from microsoft_agents.authentication.msal import MsalConnectionManager
    from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware
    from microsoft_agents.hosting.core import ActivityHandler, AgentAuthConfiguration
    from microsoft_agents.hosting.core.authorization import AuthTypes

    config = AgentAuthConfiguration(
        auth_type=AuthTypes.client_secret,
        client_id=APP_ID,
        tenant_id=TENANT,
        client_secret=SECRET,
        connection_name="SERVICE_CONNECTION",
    )
    adapter = CloudAdapter(
        connection_manager=MsalConnectionManager(
            connections_configurations={"SERVICE_CONNECTION": config}
        )
    )

    class Bare(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContextProtocol[Any]) -> None:
            await turn_context.send_activity("ok")

    agent = Bare()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, agent)
        return response if response is not None else web.Response(status=202)

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    web_app = web.Application(middlewares=[jwt_authorization_middleware])
    web_app["agent_configuration"] = config
    web_app.router.add_post("/api/messages", messages)
    web_app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await _until_terminated()
    await runner.cleanup()


async def vangnet(port: int, db_url: str, region_file: str) -> None:
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
        _env_file=None,
        slack_bot_token=None,
        telegram_bot_token=None,
        teams_app_id=APP_ID,
        teams_app_password=SECRET,
        teams_tenant_id=TENANT,
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
    mode, port, *rest = sys.argv[1:]
    for name in ("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_URL"):
        os.environ.pop(name, None)
    if mode == "vangnet":
        asyncio.run(vangnet(int(port), *rest))
    else:
        asyncio.run(bare(int(port)))


if __name__ == "__main__":
    main()
