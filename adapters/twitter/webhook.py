"""Account Activity webhooks: the CRC challenge and signed event deliveries.

X proves a webhook URL with ``GET ?crc_token=``: the answer is the token's HMAC-SHA256
under the consumer secret. Every delivery carries ``x-twitter-webhooks-signature``, the
same HMAC of the raw body; anything that does not verify is refused with 401 before
its body is parsed, and nothing from it is stored.

Because the CRC answer and a delivery's signature are the same HMAC under the same key,
the CRC endpoint would sign any delivery a caller asked it to. It therefore answers only
tokens shaped like X's (short base64 / base64url strings, e.g. the base64 of a UUID):
such a token can never be a delivery, which must be a JSON object and so starts with
``{``. Anything else is refused with 400 and signed by nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from adapters.twitter.normalize import dm_from_activity, mention_from_activity
from hub.domain import InboundMessage
from hub.errors import BadRequest, Unauthorized
from hub.http.body import read_limited

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
WEBHOOK_PATH = "/webhooks/twitter"
# X's tokens are 48 characters today; the bound leaves room and keeps the alphabet.
CRC_TOKEN = re.compile(r"[A-Za-z0-9_\-+/]{1,128}={0,2}")

Ingest = Callable[[InboundMessage], Awaitable[Any]]


def sign(secret: str, data: bytes) -> str:
    digest = hmac.new(secret.encode(), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of a delivery's signature header."""
    return signature is not None and hmac.compare_digest(
        sign(secret, body).encode(), signature.encode()
    )


def activity_messages(payload: dict[str, Any], account_id: str) -> list[InboundMessage]:
    """The inbound messages in one Account Activity payload (other events ignored).

    Raises ``KeyError``, ``TypeError`` or ``ValueError`` for a payload of the wrong shape.
    """
    try:
        return _activity_messages(payload, account_id)
    except AttributeError as exc:  # a list or string where an object belongs
        raise TypeError(f"unexpected value type: {exc}") from exc


def _activity_messages(payload: dict[str, Any], account_id: str) -> list[InboundMessage]:
    if str(payload.get("for_user_id", account_id)) != account_id:
        return []
    messages: list[InboundMessage] = []
    for tweet in payload.get("tweet_create_events") or []:
        messages.append(mention_from_activity(tweet))
    users = payload.get("users") or {}
    for event in payload.get("direct_message_events") or []:
        message = dm_from_activity(event, users)
        if message is not None:
            messages.append(message)
    return messages


class TwitterWebhook:
    """The ``/webhooks/twitter`` routes."""

    def __init__(self, secret: str, account_id: str, max_body: int, ingest: Ingest) -> None:
        self.secret = secret
        self.account_id = account_id
        self.max_body = max_body
        self.ingest = ingest

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get(WEBHOOK_PATH, self.crc), web.post(WEBHOOK_PATH, self.deliver)]

    async def crc(self, request: web.Request) -> web.Response:
        token = request.query.get("crc_token")
        if not token:
            raise BadRequest("crc_token is required", code="missing_crc_token")
        if CRC_TOKEN.fullmatch(token) is None:
            raise BadRequest(
                "crc_token must be a base64 string of at most 130 characters",
                code="invalid_crc_token",
            )
        return web.json_response({"response_token": sign(self.secret, token.encode())})

    async def deliver(self, request: web.Request) -> web.Response:
        body = await read_limited(request, self.max_body, "the webhook body")
        if not verify(self.secret, body, request.headers.get(SIGNATURE_HEADER)):
            raise Unauthorized("webhook signature does not verify", code="invalid_signature")
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise BadRequest("webhook body is not valid JSON", code="invalid_json") from exc
        if not isinstance(payload, dict):
            raise BadRequest("webhook body must be a JSON object", code="invalid_payload")
        try:
            messages = activity_messages(payload, self.account_id)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest(
                f"malformed Account Activity event: {exc}", code="invalid_payload"
            ) from exc
        # Stored before answering: X retries a delivery that did not get a 200.
        for message in messages:
            await self.ingest(message)
        return web.json_response({"received": len(messages)})
