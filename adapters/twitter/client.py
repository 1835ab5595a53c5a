"""tweepy's async API v2 client pointed at a configurable host, reporting rate-limit windows.

tweepy's ``AsyncBaseClient.request`` joins a literal ``"https://api.twitter.com"`` with
the route and has no host hook, so ``TwitterApiClient`` overrides ``request`` itself:
same signing (OAuth 1.0a user context or bearer), same exceptions, but the host comes
from ``twitter.api_base_url``. Every other method (``get_users_mentions``,
``create_tweet`` …) is tweepy's own and reaches the network only through ``request``.

tweepy's ``wait_on_rate_limit`` sleeps inside the call and hides when the window opens
again; it stays off, and each response's ``x-rate-limit-*`` headers are kept per route
so the poller can wait for the reset itself and say when it will poll next.
"""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from oauthlib.oauth1 import Client as OAuthClient
from tweepy.asynchronous import AsyncClient
from tweepy.errors import (
    BadRequest,
    Forbidden,
    HTTPException,
    NotFound,
    TooManyRequests,
    TwitterServerError,
    Unauthorized,
)
from yarl import URL

log = logging.getLogger(__name__)

_ERRORS: dict[int, type[HTTPException]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
}


@dataclass(frozen=True, slots=True)
class RateWindow:
    """One endpoint's rate-limit window as the last response described it."""

    limit: int | None
    remaining: int | None
    reset_at: float | None  # epoch seconds

    @classmethod
    def from_headers(cls, headers: Any) -> RateWindow | None:
        def number(name: str) -> int | None:
            value = headers.get(name)
            try:
                return int(value) if value is not None else None
            except ValueError:
                return None

        reset = number("x-rate-limit-reset")
        window = cls(number("x-rate-limit-limit"), number("x-rate-limit-remaining"), reset)
        return None if window == cls(None, None, None) else window

    def spent(self) -> bool:
        return self.remaining == 0 and self.reset_at is not None

    def as_dict(self) -> dict[str, Any]:
        return {"limit": self.limit, "remaining": self.remaining, "reset_at": self.reset_at}


class TwitterApiClient(AsyncClient):  # type: ignore[misc]  # tweepy is untyped
    """``tweepy.asynchronous.AsyncClient`` with a configurable API host."""

    def __init__(
        self, api_base_url: str, request_timeout_seconds: float = 30.0, **credentials: Any
    ) -> None:
        super().__init__(**credentials, return_type=dict, wait_on_rate_limit=False)
        self.session: aiohttp.ClientSession | None = None
        self.request_timeout_seconds = request_timeout_seconds
        self.api_base_url = api_base_url.rstrip("/")
        self.rate_windows: dict[str, RateWindow] = {}

    async def open(self) -> None:
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.request_timeout_seconds)
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def rate_window(self, method: str, route: str) -> RateWindow | None:
        return self.rate_windows.get(f"{method} {route}")

    async def upload_image(self, data: bytes, media_type: str, *, for_dm: bool) -> str:
        """One image through X API v2's one-shot ``POST /2/media/upload`` (base64 in a JSON
        body, signed like every call); the media id a post or DM names."""
        body = {
            "media": base64.b64encode(data).decode(),
            "media_category": "dm_image" if for_dm else "tweet_image",
            "media_type": media_type,
        }
        answer: dict[str, Any] = await self._make_request(
            "POST", "/2/media/upload", json=body, user_auth=True
        )
        return str(answer["data"]["id"])

    async def request(
        self,
        method: str,
        route: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        user_auth: bool = False,
    ) -> aiohttp.ClientResponse:
        """tweepy's request, with the host taken from config (see the module docstring)."""
        if self.session is None:
            raise RuntimeError("TwitterApiClient.open() was not awaited")
        url: str | URL = self.api_base_url + route
        headers = {"User-Agent": self.user_agent}
        if json is not None:
            headers["Content-Type"] = "application/json"
        if user_auth:
            oauth = OAuthClient(
                self.consumer_key,
                self.consumer_secret,
                self.access_token,
                self.access_token_secret,
            )
            signed_url = str(URL(str(url)).with_query(sorted((params or {}).items())))
            signed_url, headers, _ = oauth.sign(signed_url, method, headers=headers)
            # As in tweepy: oauthlib signs colons percent-encoded, aiohttp would not encode.
            before, _, query = signed_url.partition("?")
            url = URL(f"{before}?{query.replace(':', '%3A')}", encoded=True)
            params = None
        else:
            headers["Authorization"] = f"Bearer {self.bearer_token}"

        async with self.session.request(
            method, url, params=params, json=json, headers=headers
        ) as response:
            await response.read()
        window = RateWindow.from_headers(response.headers)
        if window is not None:
            self.rate_windows[f"{method} {route}"] = window
        if 200 <= response.status < 300:
            return response
        body = await _error_json(response)
        if response.status == 429:
            reset = window.reset_at if window else None
            raise TooManyRequests(response, response_json=body, reset_time=reset)
        if response.status >= 500:
            raise TwitterServerError(response, response_json=body)
        raise _ERRORS.get(response.status, HTTPException)(response, response_json=body)


async def _error_json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {"detail": f"HTTP {response.status}"}


def error_detail(exc: HTTPException) -> str:
    """The API's own words for a failed call (``errors[].message`` or ``detail``)."""
    messages = [str(m) for m in exc.api_messages if m]
    status = getattr(exc.response, "status", "?")
    return f"X API {status}: " + ("; ".join(messages) if messages else str(exc))


def seconds_until(epoch: float | None, margin: float = 0.0) -> float:
    return 0.0 if epoch is None else max(0.0, epoch - time.time() + margin)


async def check_account(
    api_base_url: str, timeout_seconds: float, *, user_auth: bool, **credentials: str
) -> tuple[bool, str]:
    """Who the credentials belong to (``GET /2/users/me``), signed as the channel signs:
    ``(True, "@username")``, or ``(False, the API's refusal)``. Network errors propagate."""
    client = TwitterApiClient(api_base_url, timeout_seconds, **credentials)
    await client.open()
    try:
        body = await client.get_me(user_auth=user_auth)
    except HTTPException as exc:
        return False, error_detail(exc)
    finally:
        await client.close()
    data = body.get("data") if isinstance(body, dict) else None
    return True, f"@{data.get('username') if isinstance(data, dict) else '?'}"
