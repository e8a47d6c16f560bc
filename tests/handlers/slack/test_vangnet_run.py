"""`vangnet run` with Slack configured: the real command line serves HTTP and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.conftest import TEST_KEY
from tests.handlers.slack.conftest import free_port
from tests.handlers.slack.fake_slack import FakeSlack


async def test_vangnet_run_serves_slack_over_http_until_told_to_stop(
    fake: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "VANGNET_"))
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path}/v.db",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": fake.api_url,
        "VANGNET_SECRET_KEY": TEST_KEY.decode(),
        "PORT": str(port),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(150):  # at most 30 s for the start
                try:
                    health = await client.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            else:
                raise AssertionError("vangnet run did not start serving")
            assert health.status_code == 200
            unsigned = await client.post(
                f"http://127.0.0.1:{port}/slack/events", content=b"command=/help"
            )
            assert unsigned.status_code == 401
            metrics = await client.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
            assert metrics.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, stderr.decode()
