"""Files on Teams, both ways, in the personal chat only (the Teams bot APIs give files
nowhere else).

In: a file sent to the bot arrives as an attachment "file download info" (its name, its type
and a pre-authenticated download URL in the sender's OneDrive). A school contact's file of
leavers is judged before it is downloaded, as on Slack and Telegram (`common.files`: by its
name and type; by its size, which Teams does not say, from a HEAD of the download URL), then
fetched (at most one byte past the limit) and handed to the core's import whole, with the
message sent with it (which may name a workbook's sheet). A file in a channel or group chat is
answered with where to send it instead; a picture pasted in the chat with what the bot reads.

Out: a reply carrying a file (`Reply.file`: an export, a scan's report) is offered with a
consent card; the bytes wait in the outbox (`offers`) until the person answers. Accepted,
Teams sends an invoke "fileConsent/invoke" naming an upload session in their OneDrive: the
bytes are PUT there and a file card shows the file in the chat; declined, a short note. The
invoke is answered with 200 within the turn, whatever came of it.

Files are fetched from and put to OneDrive for Business (`*.sharepoint.com`) over HTTPS only,
without any token of the bot's (the URLs carry their own); any other address an activity
names is not contacted.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from microsoft_agents.activity import Activity, ActivityTypes, Attachment, InvokeResponse
from microsoft_agents.hosting.core import TurnContext

from bot.core.app import Core
from bot.core.replies import Reply
from bot.handlers.common.files import MAX_CSV_BYTES, may_be_a_table, not_a_table, too_large
from bot.handlers.common.who import Who
from bot.handlers.teams import offers, references, render
from bot.handlers.teams.sending import TeamsSender

log = logging.getLogger(__name__)

TRANSPORT = "teams"
DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
REFERENCE = "reference"  # a file shared in a channel: a link to the team's SharePoint
FILE_CONSENT_INVOKE = "fileConsent/invoke"
FILE_HOST_SUFFIX = ".sharepoint.com"  # OneDrive for Business, where Teams keeps chat files
TIMEOUT = aiohttp.ClientTimeout(total=60)


def on_file_host(url: str) -> bool:
    """Whether `url` is a OneDrive for Business address over HTTPS (where Teams keeps the
    files of a personal chat): the only place files are fetched from or put to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").casefold()
    return parts.scheme == "https" and host.endswith(FILE_HOST_SUFFIX)


def shared_files(activity: Activity) -> list[Attachment]:
    """The files sent with a message: in the personal chat as download info, in a channel as
    a reference to the team's SharePoint."""
    return [a for a in activity.attachments or [] if a.content_type in (DOWNLOAD_INFO, REFERENCE)]


def media(activity: Activity) -> bool:
    """Whether a picture, video or sound was pasted into the message (not a file sent)."""
    return any(
        (a.content_type or "").startswith(("image/", "video/", "audio/"))
        for a in activity.attachments or []
    )


class TeamsFiles:
    def __init__(self, core: Core, sender: TeamsSender) -> None:
        self.core = core
        self.sender = sender

    # --- in -----------------------------------------------------------------------------

    async def receive(
        self, context: TurnContext, who: Who, files: list[Attachment], text: str
    ) -> None:
        """Files sent with a message: a file of leavers imported whole, or not at all."""
        t = who.t

        async def tell(said: str, *, error: bool = True) -> None:
            await self.sender.post([Reply(text=said, error=error)], context=context)

        if not references.is_personal(context.activity):
            await tell(
                t(
                    "Files of leavers hold personal details: send them to me in our personal "
                    "chat, and remove this one here."
                ),
                error=False,
            )
            return
        if not who.may_register:
            await tell(t("/{name} is not for your role. Type /help.", name="leaver"))
            return
        if len(files) != 1:
            await tell(t("Send one file of leavers at a time: a CSV file or an Excel workbook."))
            return
        (shared,) = files
        name = shared.name or ""
        content: Any = shared.content if isinstance(shared.content, dict) else {}
        url = content.get("downloadUrl")
        file_type = content.get("fileType")
        if not isinstance(url, str) or not on_file_host(url):
            log.warning("teams: a file not on OneDrive for Business; not downloaded")
            await tell(t("I can only read files sent to me here, in Teams."))
            return
        # judged by what Teams says of it first: a picture, a video or a file over the limit
        # is refused without downloading it
        if not may_be_a_table(name, file_type if isinstance(file_type, str) else ""):
            await tell(not_a_table(t, name))
            return
        try:
            data = await download(url)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("teams: fetching a shared file failed: %s", type(exc).__name__)
            await tell(t("I could not fetch that file from Teams. Please send it again."))
            return
        if data is None:
            await tell(too_large(t))
            return
        replies = await asyncio.to_thread(
            self.core.handle_file,
            person_id=who.id,
            data=data,
            transport=TRANSPORT,
            filename=name,
            text=text,
        )
        await self.sender.post(replies, context=context)

    # --- out ----------------------------------------------------------------------------

    async def consent(self, context: TurnContext, who: Who | None) -> None:
        """The person's answer to a consent card (an invoke "fileConsent/invoke"): the file
        put into their OneDrive and shown, or the offer withdrawn. Answered with 200."""
        await context.send_activity(
            Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=HTTPStatus.OK))
        )
        if who is None:
            await self.sender.post([self.core.not_registered()], context=context)
            return
        t = who.t
        value: Any = context.activity.value if isinstance(context.activity.value, dict) else {}
        action = value.get("action")
        offered = value.get("context") if isinstance(value.get("context"), dict) else {}
        offer_id = offered.get(render.OFFER_KEY) if isinstance(offered, dict) else None
        object_id = getattr(context.activity.from_property, "aad_object_id", None) or ""
        if not isinstance(offer_id, int) or not object_id:
            return
        if action == "decline":
            # only their own offer is withdrawn
            if await asyncio.to_thread(offers.waiting, self.core.engine, offer_id, object_id):
                await asyncio.to_thread(offers.settle, self.core.engine, offer_id)
            await self.sender.post(
                [Reply(text=t("All right: I did not send the file."))], context=context
            )
            return
        if action != "accept":
            return
        reply = await asyncio.to_thread(offers.waiting, self.core.engine, offer_id, object_id)
        if reply is None or reply.file is None:
            gone = t("That file is no longer waiting for you. Ask for it again.")
            await self.sender.post([Reply(text=gone, error=True)], context=context)
            return
        info: Any = value.get("uploadInfo") if isinstance(value.get("uploadInfo"), dict) else {}
        upload_url = info.get("uploadUrl")
        if not isinstance(upload_url, str) or not on_file_host(upload_url):
            log.warning("teams: an upload address not on OneDrive for Business; not used")
            failed = t("I could not put the file in your OneDrive. Ask for it again.")
            await self.sender.post([Reply(text=failed, error=True)], context=context)
            return
        try:
            await upload(upload_url, reply.file)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("teams: putting a file in OneDrive failed: %s", type(exc).__name__)
            failed = t("I could not put the file in your OneDrive. Ask for it again.")
            await self.sender.post([Reply(text=failed, error=True)], context=context)
            return
        await asyncio.to_thread(offers.settle, self.core.engine, offer_id)
        name = str(info.get("name") or reply.file_name or "")
        text = t("The file {name} is in your OneDrive now.", name=name)
        await self.sender.post_attachments(context, [render.file_card(info, name)], text=text)


def _session() -> aiohttp.ClientSession:
    """A client for OneDrive: through HTTPS_PROXY when one is set, trusting the CAs the
    system (or SSL_CERT_FILE) names as they are now, not as they were at import."""
    connector = aiohttp.TCPConnector(ssl=ssl.create_default_context())
    return aiohttp.ClientSession(connector=connector, trust_env=True, timeout=TIMEOUT)


async def download(url: str) -> bytes | None:
    """The file at `url` (pre-authenticated: no token goes with it), or None when it is over
    the limit: judged by its size before it is downloaded (a HEAD), and again while it is."""
    async with _session() as http:
        async with http.head(url, allow_redirects=True) as response:
            if response.ok and (response.content_length or 0) > MAX_CSV_BYTES:
                return None
        async with http.get(url) as response:
            response.raise_for_status()
            if (response.content_length or 0) > MAX_CSV_BYTES:
                return None
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.content.iter_chunked(65536):
                total += len(chunk)
                if total > MAX_CSV_BYTES:
                    return None
                chunks.append(chunk)
    return b"".join(chunks)


async def upload(url: str, data: bytes) -> None:
    """Put `data` into the upload session at `url` in one piece."""
    headers = {"Content-Length": str(len(data))}
    if data:
        headers["Content-Range"] = f"bytes 0-{len(data) - 1}/{len(data)}"
    async with (
        _session() as http,
        http.put(url, data=data, headers=headers) as response,
    ):
        response.raise_for_status()
