"""``ApiChannelAdapter``: integrators post customers' messages; replies go to their webhook.

An integrator bridges a platform Chorus does not ship (WhatsApp through a provider, SMS,
an in-app chat). It posts each customer message with the inbox's token and its own message
id, which makes a retry store nothing new; agents' and the bot's replies leave through the
outbox to the inbox's webhook URL, signed with the inbox's secret (``hub.webhooks.signature``),
at least once, with backoff on 5xx, 408, 429 and timeouts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Sequence

import aiohttp
from aiohttp import web
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError, model_validator

from adapters.api_channel.config import ApiChannelsConfig
from hub.channels.port import ApiChannelDirectory, HubPort, PublicOperation
from hub.domain import (
    ApiChannel,
    Attachment,
    Channel,
    DeliveryResult,
    InboundMessage,
    OutboundMessage,
)
from hub.errors import BadRequest, Unauthorized
from hub.http.body import read_limited
from hub.webhooks.signature import signed_headers

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api-channels/{id}/messages"  # under /api/v1, in the API's route table
RETRY_STATUSES = {408, 425, 429}


class ContactBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=200)


class AttachmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl
    name: str = Field(default="", max_length=200)
    mime_type: str = Field(default="application/octet-stream", max_length=100)


class InboundBody(BaseModel):
    """One customer message from the integrator's platform."""

    model_config = ConfigDict(extra="forbid", strict=True)

    message_id: str = Field(min_length=1, max_length=200)
    contact: ContactBody
    text: str = Field(default="", max_length=20_000)
    attachments: list[AttachmentBody] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _not_empty(self) -> InboundBody:
        if not self.text.strip() and not self.attachments:
            raise ValueError("a message has text or attachments")
        return self


def _token_matches(request: web.Request, channel: ApiChannel | None) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if channel is None or not channel.active or scheme.lower() != "bearer" or not token:
        return False
    given = hashlib.sha256(token.strip().encode()).hexdigest()
    return hmac.compare_digest(given, channel.token_hash)


def _parse(body: bytes) -> InboundBody:
    try:
        return InboundBody.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadRequest(f"{where}: {first['msg']}", code="invalid_message") from None


class ApiChannelAdapter:
    """The API channel: every API inbox shares this one adapter."""

    channel: Channel = "api"

    def __init__(
        self, config: ApiChannelsConfig, hub: HubPort, directory: ApiChannelDirectory
    ) -> None:
        self.config = config
        self.hub = hub
        self.directory = directory
        self._session: aiohttp.ClientSession | None = None

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return []

    def api_operations(self) -> Sequence[PublicOperation]:
        return [
            PublicOperation(
                "POST",
                MESSAGES_PATH,
                self.post_message,
                "Post a customer's message to an API inbox (Authorization: Bearer <inbox token>)",
                body=InboundBody,
                status=201,
            )
        ]

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout_seconds)
        self._session = aiohttp.ClientSession(timeout=timeout)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post_message(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["id"]
        channel = await self.directory.get(channel_id)
        # Unknown inbox and wrong token answer alike: an id alone tells nothing.
        if not _token_matches(request, channel):
            raise Unauthorized(
                "send Authorization: Bearer <the inbox's token>", code="invalid_token"
            )
        assert channel is not None
        body = _parse(await read_limited(request, self.config.max_body_bytes))
        sender = f"{channel.id}:{body.contact.id}"
        result = await self.hub.receive(
            InboundMessage(
                channel="api",
                external_id=f"{channel.id}:{body.message_id}",
                sender_id=sender,
                sender_name=body.contact.name,
                thread_key=sender,
                text=body.text,
                attachments=tuple(
                    Attachment(name=a.name, mime_type=a.mime_type, url=str(a.url))
                    for a in body.attachments
                ),
                route={"api_channel": channel.id, "contact_id": body.contact.id},
                client_id=body.message_id,
            )
        )
        return web.json_response(
            {
                "id": result.message.id,
                "conversation_id": result.conversation.id,
                "duplicate": result.duplicate,
            },
            status=200 if result.duplicate else 201,
        )

    async def send(self, outbound: OutboundMessage) -> DeliveryResult:
        channel = await self.directory.get(str(outbound.route.get("api_channel", "")))
        if channel is None or not channel.active:
            return DeliveryResult.failed("the API inbox no longer exists or is inactive")
        payload = {
            "type": "message.created",
            "id": outbound.message_id,
            "message": {
                "id": outbound.message_id,
                "contact_id": outbound.route.get("contact_id"),
                "text": outbound.text,
                "attachments": [a.model_dump(mode="json") for a in outbound.attachments],
                "author": outbound.author.model_dump(mode="json"),
            },
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **signed_headers(channel.secret, body)}
        assert self._session is not None, "start() opens the session"
        try:
            # No redirects: a 3xx is not delivery, and it must not point the hub elsewhere.
            async with self._session.post(
                channel.webhook_url, data=body, headers=headers, allow_redirects=False
            ) as r:
                status, retry_after = r.status, r.headers.get("Retry-After", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            return DeliveryResult.failed(
                f"webhook unreachable ({type(exc).__name__})", retryable=True
            )
        if 200 <= status < 300:
            return DeliveryResult.sent(outbound.message_id)
        if status >= 500 or status in RETRY_STATUSES:
            wait = float(retry_after) if retry_after.isdigit() and len(retry_after) < 9 else None
            return DeliveryResult.failed(
                f"webhook answered {status}", retryable=True, retry_after_seconds=wait
            )
        return DeliveryResult.failed(f"webhook refused the message with {status}")
