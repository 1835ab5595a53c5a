"""``WeChatAdapter``: an Official Account's callbacks in, customer-service messages out.

WeChat waits five seconds for an answer and retries three times, so a callback is stored
first and answered ``success`` at once; replies never ride in the passive reply body but go
through the outbox to ``/cgi-bin/message/custom/send``, which WeChat accepts for 48 hours
after the customer's last message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import web

from adapters.wechat.api import WeChatApi, WeChatError, delivery_failure
from adapters.wechat.config import WeChatConfig
from adapters.wechat.crypto import SafeModeCipher
from adapters.wechat.files import plan, send_files
from adapters.wechat.payload import MalformedBody, parse_message
from adapters.wechat.webhook import verified_fields, verify_server
from hub.channels.port import HubPort
from hub.domain import Channel, DeliveryResult, Message, OutboundMessage
from hub.errors import BadRequest, ChorusError, StorageUnavailable
from hub.http.body import read_limited

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/wechat"
# Kinds whose MediaId the media API serves (video needs its thumbnail call; not yet).
FETCHED_KINDS = {"image", "voice"}
# A customer-service text message holds at most 2,048 bytes; longer replies go in parts.
MAX_TEXT_BYTES = 2048


def split_utf8(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Parts of at most ``limit`` UTF-8 bytes, cut between characters, lines first."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        cut = len(rest)
        while len(rest[:cut].encode()) > limit:
            cut = len(rest[:cut].encode()[:limit].decode(errors="ignore"))
        head = rest[:cut]
        if cut < len(rest) and (at := head.rfind("\n")) > cut // 4:
            head = head[:at]
        parts.append(head.rstrip())
        rest = rest[len(head) :].lstrip()
    return parts


class WeChatAdapter:
    """The WeChat Official Account channel."""

    channel: Channel = "wechat"

    def __init__(self, config: WeChatConfig, hub: HubPort, api: WeChatApi | None = None) -> None:
        self.config = config
        self.hub = hub
        self.token = config.token.get_secret_value()
        self.cipher = (
            SafeModeCipher(config.encoding_aes_key.get_secret_value(), config.app_id)
            if config.mode == "safe"
            else None
        )
        self.api = api or WeChatApi(
            config.api_base_url,
            config.app_id,
            config.app_secret.get_secret_value(),
            hub.channel_state,
            config.request_timeout_seconds,
        )
        self._media_tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.get(WEBHOOK_PATH, self.verify), web.post(WEBHOOK_PATH, self.callback)]

    async def start(self) -> None:
        """Nothing to open: the first send fetches the shared access token."""

    async def stop(self) -> None:
        if self._media_tasks:
            await asyncio.wait(set(self._media_tasks), timeout=5)
        await self.api.close()

    async def verify(self, request: web.Request) -> web.Response:
        """WeChat's server check when the URL is saved in the admin console."""
        return web.Response(text=verify_server(request.query, self.token))

    async def callback(self, request: web.Request) -> web.Response:
        body = await read_limited(request, self.config.max_body_bytes)
        fields = verified_fields(request.query, body, self.token, self.cipher)
        try:
            parsed = parse_message(fields, self.config.app_id)
        except MalformedBody as exc:
            raise BadRequest(str(exc), code="invalid_message") from exc
        if parsed.inbound is None:
            self.hub.metrics.skipped("wechat", parsed.skipped)
            log.info("wechat callback not stored", extra={"reason": parsed.skipped})
        else:
            try:
                result = await self.hub.receive(parsed.inbound)
            except StorageUnavailable:
                raise
            except Exception as exc:
                # Answering anything but success makes WeChat retry, as it should here.
                log.exception("wechat message not stored")
                raise StorageUnavailable("the message was not stored; retry") from exc
            media_id = parsed.inbound.raw.get("MediaId")
            kind = parsed.inbound.raw.get("MsgType")
            if not result.duplicate and media_id and kind in FETCHED_KINDS:
                # After the write and outside the 5-second answer: fetching may be slow.
                task = asyncio.get_running_loop().create_task(
                    self.keep_media(result.message, str(media_id))
                )
                self._media_tasks.add(task)
                task.add_done_callback(self._media_tasks.discard)
        return web.Response(text="success")

    async def keep_media(self, message: Message, media_id: str) -> None:
        """Fetch an image or voice with the media API into the hub's media store; on
        failure the message keeps what the callback said (and it is logged)."""
        media = self.hub.media
        if media is None or not message.attachments:
            return
        try:
            data = await self.api.get_media(media_id, media.max_bytes)
            kept = await media.keep(
                data,
                message.attachments[0].name,
                owner=f"wechat:{message.contact_id}",
                conversation_id=message.conversation_id,
            )
            original = message.attachments[0].url
            if original:
                kept = kept.model_copy(update={"url": original})
            await media.attach_to_message(message.id, 0, kept)
        except (WeChatError, ChorusError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("wechat media not kept", extra={"error": type(exc).__name__})

    def _outside_window(self, outbound: OutboundMessage) -> bool:
        last = outbound.route.get("last_inbound_at")
        if not isinstance(last, str):
            return False
        window = timedelta(hours=self.config.reply_window_hours)
        return datetime.now(UTC) - datetime.fromisoformat(last) > window

    async def send(self, outbound: OutboundMessage) -> DeliveryResult:
        openid = outbound.route.get("openid") or outbound.recipient_id
        if not openid:
            return DeliveryResult.failed("the conversation has no WeChat openid")
        if self._outside_window(outbound):
            return DeliveryResult.failed(
                "outside WeChat's 48-hour reply window: the customer must write again first"
            )
        stored = [a for a in outbound.attachments if a.media_id is not None]
        if stored and self.hub.media is None:
            return DeliveryResult.failed("this hub runs without a media store")
        files = plan(stored)
        if isinstance(files, DeliveryResult):
            return files
        text = outbound.text
        for attachment in outbound.attachments:
            if attachment.url and attachment.media_id is None:  # a file kept elsewhere
                text = f"{text}\n{attachment.name or 'file'}: {attachment.url}".strip()
        if files and self.hub.media is not None:
            sent = await send_files(
                self.api, self.hub.channel_state, self.hub.media, outbound, str(openid), files
            )
            if not sent.ok:
                log.warning("wechat file not sent", extra={"reason": sent.reason})
                return sent
        try:
            for part in split_utf8(text):
                await self.api.send_text(openid, part)
        except Exception as exc:
            result = delivery_failure(exc)
            log.warning("wechat send failed", extra={"reason": result.reason})
            return result
        return DeliveryResult.sent()
