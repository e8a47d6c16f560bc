"""What lives as long as the Slack app: metrics, seen event ids, per-channel pacing, the
HTTP clients, the people's direct-message channels. Pacing and seen event ids come from the
shared transport layer (`bot.handlers.common`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
import httpx
from cachetools import LRUCache
from prometheus_client import CollectorRegistry, Counter

from bot.handlers.common.dedupe import SeenEvents
from bot.handlers.common.pacing import Pacer

KNOWN_DM_CHANNELS = 10_000
# Slack allows about one message a second per channel, counted as the requests arrive; ours
# start a pace apart but travel a little longer or shorter each, so a pace of exactly one
# second is met with a 429 (and a wait of a second or more) for about one message in five.
# This margin keeps them apart on arrival too, at the cost of 5 % of the rate.
SLACK_PACE = 1.05


class Metrics:
    """Prometheus counters, in a registry of their own (no process-wide state)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.commands = Counter(
            "vangnet_slack_commands",
            "Slack slash commands, buttons, forms and messages handled",
            ["kind"],
            registry=self.registry,
        )
        self.sent = Counter(
            "vangnet_slack_messages_sent",
            "Messages posted to Slack (direct messages and answers)",
            registry=self.registry,
        )

    def handled(self, kind: str) -> None:
        self.commands.labels(kind=kind).inc()


def _dm_channels() -> LRUCache[str, str]:
    return LRUCache(maxsize=KNOWN_DM_CHANNELS)


@dataclass
class SlackServices:
    """What the Slack transport holds for its lifetime; whoever opens it closes it."""

    metrics: Metrics = field(default_factory=Metrics)
    pacer: Pacer = field(default_factory=lambda: Pacer(SLACK_PACE))  # per channel
    seen: SeenEvents = field(default_factory=SeenEvents)
    session: aiohttp.ClientSession | None = None  # for the Slack Web API
    http: httpx.AsyncClient | None = None  # for downloading files
    dm_channels: LRUCache[str, str] = field(default_factory=_dm_channels)  # user → channel

    @classmethod
    async def open(cls) -> SlackServices:
        return cls(session=aiohttp.ClientSession(), http=httpx.AsyncClient(timeout=30.0))

    def http_client(self) -> httpx.AsyncClient:
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=30.0)
        return self.http

    def remember_dm(self, user: str, channel: str) -> None:
        self.dm_channels[user] = channel

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        if self.session is not None:
            await self.session.close()
