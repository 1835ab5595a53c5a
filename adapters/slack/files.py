"""Files between Slack and the hub's media store.

In: a message's ``files`` are fetched from ``url_private_download`` with the bot token
(Slack serves private files only to it) and handed to the hub, after the message is
stored. The token is sent only to Slack's file host (or the configured API's host, for a
local fake). Out: stored files go into a DM or an agent thread with slack_sdk's
``files_upload_v2`` (``files.getUploadURLExternal``, the upload, then
``files.completeUploadExternal``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from hub.channels.port import MediaPort
from hub.domain import Attachment, Message
from hub.errors import ChorusError

log = logging.getLogger(__name__)

SLACK_FILE_HOST = "files.slack.com"


class FileTooLarge(Exception):
    pass


def _trusted(url: str, api_base_url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname == SLACK_FILE_HOST:
        return True
    return parts.netloc == urlsplit(api_base_url).netloc and parts.scheme in ("http", "https")


async def _fetch(url: str, token: str, limit: int, within: float) -> bytes:
    headers = {"Authorization": f"Bearer {token}"}
    client_timeout = aiohttp.ClientTimeout(total=within)
    async with (
        aiohttp.ClientSession(timeout=client_timeout) as session,
        session.get(url, headers=headers, allow_redirects=False) as response,
    ):
        response.raise_for_status()
        data = bytearray()
        async for chunk in response.content.iter_chunked(65_536):
            data.extend(chunk)
            if len(data) > limit:
                raise FileTooLarge(url)
        return bytes(data)


class SlackFiles:
    """Fetches Slack files into the media store and uploads stored files to Slack."""

    def __init__(self, client: AsyncWebClient, api_base_url: str, timeout: float) -> None:
        self.client = client
        self.api_base_url = api_base_url
        self.timeout = timeout

    async def keep(self, media: MediaPort, message: Message, files: Sequence[Any]) -> None:
        """Fetch each file of a stored message and attach the stored copy to it."""
        for index, file in enumerate(files):
            if not isinstance(file, dict):
                continue
            url = str(file.get("url_private_download") or file.get("url_private") or "")
            size = file.get("size")
            if not url or not _trusted(url, self.api_base_url):
                continue
            if isinstance(size, int) and size > media.max_bytes:
                log.info("slack file too large to keep", extra={"size": size})
                continue
            try:
                data = await _fetch(url, self.client.token or "", media.max_bytes, self.timeout)
                kept = await media.keep(
                    data,
                    str(file.get("name") or ""),
                    owner=f"slack:{message.author.id}",
                    conversation_id=message.conversation_id,
                )
                permalink = file.get("permalink")
                if isinstance(permalink, str) and permalink.startswith("https://"):
                    kept = kept.model_copy(update={"url": permalink})  # Slack's own view
                await media.attach_to_message(message.id, index, kept)
            except (aiohttp.ClientError, TimeoutError, FileTooLarge, ChorusError) as exc:
                log.warning("slack file not kept", extra={"error": type(exc).__name__})

    async def upload(
        self,
        media: MediaPort,
        attachments: Sequence[Attachment],
        channel: str,
        thread_ts: str | None = None,
    ) -> None:
        """Upload the stored files among ``attachments`` into a channel (or thread)."""
        stored = [a for a in attachments if a.media_id is not None]
        if not stored:
            return
        uploads = [
            {"content": await media.read(a, "file"), "filename": a.name or "file", "title": a.name}
            for a in stored
        ]
        await self.client.files_upload_v2(
            file_uploads=uploads, channel=channel, thread_ts=thread_ts, request_file_info=False
        )


async def upload_quietly(
    files: SlackFiles,
    media: MediaPort | None,
    attachments: Sequence[Attachment],
    channel: str,
    thread_ts: str | None,
) -> None:
    """Mirror files into a thread; a failure is logged (mirrors are not retried)."""
    if media is None:
        return
    try:
        await files.upload(media, attachments, channel, thread_ts)
    except (SlackApiError, SlackRequestError, ChorusError, aiohttp.ClientError) as exc:
        log.warning("slack file mirror failed", extra={"error": type(exc).__name__})
