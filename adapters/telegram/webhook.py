"""The webhook's request checks: secret token, body size and JSON shape.

They wrap the handler (a decorator, like slack-bolt's verification middleware), so the
handler only ever sees an authenticated ``Update`` object and stays about behaviour.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from hub.errors import BadRequest, Unauthorized
from hub.http.body import read_limited

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name

UpdateHandler = Callable[[dict[str, Any]], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the header Telegram echoes with the configured secret."""
    if not given or not expected:
        return False
    # A header of raw bytes arrives as lone surrogates: compare them, never fail on them.
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def parse_update(body: bytes) -> dict[str, Any]:
    """A JSON object with an integer ``update_id``, or a ``BadRequest`` saying what is wrong."""
    try:
        update = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest("the body is not valid JSON", code="invalid_json") from exc
    if not isinstance(update, dict):
        raise BadRequest("an update is a JSON object", code="invalid_update")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise BadRequest("the update has no integer update_id", code="invalid_update")
    return update


def verified_update(secret: str, max_bytes: int) -> Callable[[UpdateHandler], Handler]:
    """Turn an ``Update`` handler into a request handler that checks the request first.

    Nothing is read or stored from a request whose secret token does not match.
    """

    def decorate(handler: UpdateHandler) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            if not secret_matches(request.headers.get(SECRET_HEADER), secret):
                raise Unauthorized("missing or wrong secret token", code="invalid_secret_token")
            update = parse_update(await read_limited(request, max_bytes, "the update"))
            return await handler(update)

        return handle

    return decorate
