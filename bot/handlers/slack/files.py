"""A file of leavers (CSV or Excel workbook) sent in a direct message: found, fetched with the
bot token (only from Slack's own file host), and handed to the core's import whole, with its
name and the message sent with it (which may name a workbook's sheet). What kind of file it
is and whether it can be read is the core's decision, in one place for every transport.

A file shared over Slack Connect arrives without its address and is looked up with
files.info. The token goes with a request only to Slack's file host and to the host of the
configured SLACK_API_URL (a proxy or a test double): never to any other address a payload
names, never into a URL or the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.app import Core
from bot.core.replies import Reply
from bot.handlers.common.files import MAX_CSV_BYTES, may_be_a_table, not_a_table, too_large
from bot.handlers.common.who import Who
from bot.handlers.slack import inbound
from bot.handlers.slack.inbound import DirectMessage, SharedFile
from bot.handlers.slack.services import SlackServices

log = logging.getLogger(__name__)

TRANSPORT = "slack"
# Slack's file host: url_private and url_private_download of every file, Slack Connect too
SLACK_FILE_HOST = "files.slack.com"

Tell = Callable[[list[Reply]], Awaitable[None]]


class SlackFiles:
    def __init__(
        self,
        core: Core,
        client: AsyncWebClient,
        services: SlackServices,
        *,
        token: str,
        api_url: str,
    ) -> None:
        self.core = core
        self.client = client
        self.services = services
        self._token = token
        self._api_origin = origin(api_url)

    async def receive(self, event: DirectMessage, who: Who, tell: Tell) -> None:
        """A file of leavers sent by a school contact: imported whole, or not at all."""
        t = who.t
        if not who.may_register:
            await tell([Reply(text=t("/{name} is not for your role. Type /help.", name="leaver"))])
            return
        one_file = t("Send one file of leavers at a time: a CSV file or an Excel workbook.")
        if len(event.files) != 1:
            await tell([Reply(text=one_file, error=True)])
            return
        shared = await self.details(event.files[0])
        if shared is None:
            no_access = t(
                "I cannot open that file: Slack does not give me access to it. "
                "Save it on your computer and send it here again."
            )
            await tell([Reply(text=no_access, error=True)])
            return
        if shared.url_private is None or not self.may_carry_token(shared.url_private):
            log.warning("slack: a shared file not on Slack's file host; not downloaded")
            only = t("I can only read files stored in Slack. Send the file itself, here.")
            await tell([Reply(text=only, error=True)])
            return
        # judged by what Slack says of it first: a picture, a video or a file over the
        # limit is refused without fetching it
        if not may_be_a_table(shared.name, shared.filetype):
            await tell([Reply(text=not_a_table(t, shared.name), error=True)])
            return
        try:
            data = await self.download(shared)
        except httpx.HTTPError as exc:
            log.warning("slack: fetching a shared file failed: %s", type(exc).__name__)
            again = t("I could not fetch that file from Slack. Please send it again.")
            await tell([Reply(text=again, error=True)])
            return
        if data is None:
            await tell([Reply(text=too_large(t), error=True)])
            return
        replies = await asyncio.to_thread(
            self.core.handle_file,
            person_id=who.id,
            data=data,
            transport=TRANSPORT,
            filename=shared.name,
            text=event.text,
        )
        await tell(replies)

    async def details(self, shared: SharedFile) -> SharedFile | None:
        """The file with its address: a file shared over Slack Connect arrives without one
        (file_access: check_file_info) and is looked up with files.info. None: Slack does
        not tell us where it is."""
        if shared.url_private is not None:
            return shared
        try:
            response = await self.client.files_info(file=shared.id)
            raw = response.get("file")
            details = inbound.shared_file(raw) if isinstance(raw, dict) else None
        except (SlackApiError, inbound.Malformed) as exc:
            log.warning("slack: files.info for a shared file failed: %s", type(exc).__name__)
            return None
        if details is None or details.url_private is None:
            log.warning("slack: files.info gave no address for a shared file")
            return None
        return details

    async def download(self, shared: SharedFile) -> bytes | None:
        """The file's bytes, fetched with the bot token (never put in the URL or the log)."""
        if shared.size > MAX_CSV_BYTES:
            return None
        url = shared.url_private
        if url is None or not self.may_carry_token(url):
            raise ValueError("not a Slack file address")  # the token goes nowhere else
        http = self.services.http_client()
        async with http.stream(
            "GET", url, headers={"Authorization": f"Bearer {self._token}"}
        ) as response:
            response.raise_for_status()
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > MAX_CSV_BYTES:
                    return None
                chunks.append(chunk)
        return b"".join(chunks)

    def may_carry_token(self, url: str) -> bool:
        """Whether the bot token may go with a request to `url` (see SLACK_FILE_HOST)."""
        found = origin(url)
        return found == ("https", SLACK_FILE_HOST, 443) or found == self._api_origin


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of `url` (the port made explicit for http and https)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ("", "", None)
    scheme = parts.scheme.casefold()
    default = {"https": 443, "http": 80}.get(scheme)
    return (scheme, (parts.hostname or "").casefold(), port if port is not None else default)
