"""A local WeChat API server for tests: ``api.weixin.qq.com``'s JSON shapes, on loopback.

It serves ``POST /cgi-bin/stable_token``, ``POST /cgi-bin/message/custom/send`` and
``GET /cgi-bin/media/get`` (the bytes with their Content-Type and a Content-disposition
naming the file, or ``{"errcode": 40007}`` for an unknown media id), and
refuses what WeChat refuses: a wrong app id or secret (40013, 40125), a caller outside the
account's IP whitelist (40164, when ``whitelisted`` is false), an unknown, expired
or replaced access token (40001, 42001), a customer who has not written in the last 48
hours (45015), more replies than the window allows (45047), a text over 2,048 bytes
(45002). Errors come as ``{"errcode", "errmsg"}`` with HTTP 200, as WeChat sends them.
Tests make customers write with ``customer_wrote``, expire tokens with ``expire_tokens``,
and read what was delivered from ``sent``.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

APP_ID = "wx1234567890abcdef"
APP_SECRET = "0123456789abcdef0123456789abcdef"
WINDOW_SECONDS = 48 * 3600


def _error(code: int, message: str) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": message})


@dataclass
class FakeWeChatAPI:
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    replies_per_window: int = 20
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expires (monotonic)
    last_inbound: dict[str, float] = field(default_factory=dict)  # openid -> wall time
    replies_in_window: dict[str, int] = field(default_factory=dict)
    token_calls: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (type, bytes)
    media_calls: list[str] = field(default_factory=list)
    fail_next_sends: list[int] = field(default_factory=list)
    whitelisted: bool = True
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    # -- what tests do ------------------------------------------------------------
    def customer_wrote(self, openid: str, at: float | None = None) -> None:
        """A customer message reached the account: its reply window opens."""
        self.last_inbound[openid] = time.time() if at is None else at
        self.replies_in_window[openid] = 0

    def add_media(self, media_id: str, content_type: str, content: bytes) -> None:
        """A file a customer sent: the media API serves it under its MediaId."""
        self.media[media_id] = (content_type, content)

    def expire_tokens(self) -> None:
        self.tokens = {token: 0.0 for token in self.tokens}

    # -- the API ------------------------------------------------------------------
    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/stable_token", self.stable_token)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        app.router.add_get("/cgi-bin/media/get", self.media_get)
        return app

    def _current_token(self) -> str | None:
        now = time.monotonic()
        for token, expires in self.tokens.items():
            if expires > now:
                return token
        return None

    async def stable_token(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        body = await request.json()
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if body.get("appid") != self.app_id:
            return _error(40013, "invalid appid")
        if body.get("secret") != self.app_secret:
            return _error(40125, "invalid appsecret")
        if not self.whitelisted:
            return _error(40164, f"invalid ip {request.remote}, not in whitelist")
        # stable_token hands every caller the same token while it lasts.
        token = None if body.get("force_refresh") else self._current_token()
        if token is None:
            token = f"ACCESS_TOKEN_{next(self._seq)}_{secrets.token_hex(8)}"
            self.tokens = {token: time.monotonic() + 7200}
        remaining = int(self.tokens[token] - time.monotonic())
        return web.json_response({"access_token": token, "expires_in": remaining})

    def _token_error(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token", "")
        if token not in self.tokens:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        if self.tokens[token] <= time.monotonic():
            return _error(42001, "access_token expired")
        return None

    async def media_get(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        media_id = request.query.get("media_id", "")
        self.media_calls.append(media_id)
        if media_id not in self.media:
            return _error(40007, "invalid media_id")
        content_type, content = self.media[media_id]
        extension = content_type.split("/")[-1]
        return web.Response(
            body=content,
            content_type=content_type,
            headers={"Content-disposition": f'attachment; filename="{media_id}.{extension}"'},
        )

    async def custom_send(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        if self.fail_next_sends:
            code = self.fail_next_sends.pop(0)
            if 500 <= code < 600:  # an HTTP failure; WeChat's own codes are larger
                return web.Response(status=code, text="busy")
            return _error(code, "scripted failure")
        body = await request.json()
        openid = body.get("touser", "")
        if body.get("msgtype") != "text" or not isinstance(body.get("text"), dict):
            return _error(40008, "invalid message type")
        content = body["text"].get("content", "")
        if not isinstance(content, str) or len(content.encode()) > 2048:
            return _error(45002, "content size out of limit")
        last = self.last_inbound.get(openid)
        if last is None or time.time() - last > WINDOW_SECONDS:
            return _error(45015, "response out of time limit or subscription is canceled")
        if self.replies_in_window.get(openid, 0) >= self.replies_per_window:
            return _error(45047, "out of response count limit")
        self.replies_in_window[openid] = self.replies_in_window.get(openid, 0) + 1
        self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})
