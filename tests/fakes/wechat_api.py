"""A local WeChat API server for tests: ``api.weixin.qq.com``'s JSON shapes, on loopback.

It serves ``POST /cgi-bin/stable_token``, ``POST /cgi-bin/message/custom/send`` (text, and
image or voice naming an uploaded ``media_id``), ``POST /cgi-bin/media/upload`` (temporary
media, the multipart field ``media``) and ``GET /cgi-bin/media/get`` (the bytes with their
Content-Type and a Content-disposition naming the file, or ``{"errcode": 40007}`` for an
unknown media id), and refuses what WeChat refuses: an upload ``type`` other than image,
voice, video or thumb (40004: an Official Account has no file type), no ``media`` part
(41005), an empty one (44001), content not of its type's formats (40005: images PNG, JPEG,
GIF; voice AMR, MP3; video MP4; thumb JPEG) or over its size (40009 image 10 MB, 40010
voice 2 MB, 40011 video 10 MB, 40012 thumb 64 KB), a message type it does not have, such as
``file`` (40008), a media id never uploaded or of another kind (40007), a wrong app id or secret (40013, 40125), a caller outside the
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

import filetype
from aiohttp import BodyPartReader, web

APP_ID = "wx1234567890abcdef"
APP_SECRET = "0123456789abcdef0123456789abcdef"
WINDOW_SECONDS = 48 * 3600
MB = 1024 * 1024
# Temporary media WeChat takes: upload type -> (formats by content, size limit, its error).
UPLOAD_RULES: dict[str, tuple[frozenset[str], int, int]] = {
    "image": (frozenset({"image/png", "image/jpeg", "image/gif"}), 10 * MB, 40009),
    "voice": (frozenset({"audio/amr", "audio/mpeg"}), 2 * MB, 40010),
    "video": (frozenset({"video/mp4"}), 10 * MB, 40011),
    "thumb": (frozenset({"image/jpeg"}), 64 * 1024, 40012),
}


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
    # media id -> (upload type, filename, bytes), as ``/cgi-bin/media/upload`` kept them
    uploads: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
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
        app = web.Application(client_max_size=64 * MB)  # WeChat itself answers 40009 and such
        app.router.add_post("/cgi-bin/stable_token", self.stable_token)
        app.router.add_post("/cgi-bin/message/custom/send", self.custom_send)
        app.router.add_get("/cgi-bin/media/get", self.media_get)
        app.router.add_post("/cgi-bin/media/upload", self.media_upload)
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

    async def media_upload(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        kind = request.query.get("type", "")
        if kind not in UPLOAD_RULES:
            return _error(40004, "invalid media type")
        media = None
        if request.content_type == "multipart/form-data":
            async for part in await request.multipart():
                if isinstance(part, BodyPartReader) and part.name == "media":
                    media = (part.filename or "", bytes(await part.read()))
        if media is None:
            return _error(41005, "media data missing")
        filename, content = media
        if not content:
            return _error(44001, "empty media data")
        formats, limit, size_error = UPLOAD_RULES[kind]
        guess = filetype.guess(content)
        if guess is None or guess.mime not in formats:
            return _error(40005, "invalid file type")
        if len(content) > limit:
            return _error(size_error, f"invalid {kind} size")
        media_id = f"MEDIA_{next(self._seq)}_{secrets.token_hex(16)}"
        self.uploads[media_id] = (kind, filename, content)
        self.media[media_id] = (guess.mime, content)
        return web.json_response(
            {"type": kind, "media_id": media_id, "created_at": int(time.time())}
        )

    def _message_error(self, body: dict[str, Any]) -> web.Response | None:
        kind = body.get("msgtype")
        if kind == "text":
            content = (
                body.get("text", {}).get("content") if isinstance(body.get("text"), dict) else None
            )
            if not isinstance(content, str):
                return _error(40008, "invalid message type")
            if len(content.encode()) > 2048:
                return _error(45002, "content size out of limit")
            return None
        if kind in ("image", "voice") and isinstance(body.get(kind), dict):
            upload = self.uploads.get(str(body[kind].get("media_id", "")))
            if upload is None or upload[0] != kind:
                return _error(40007, "invalid media_id")
            return None
        return _error(40008, "invalid message type")

    async def custom_send(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        code = self.fail_next_sends.pop(0) if self.fail_next_sends else 0
        if 500 <= code < 600:  # an HTTP failure; WeChat's own codes are larger
            return web.Response(status=code, text="busy")
        if code != 0:  # 0: this call is answered as WeChat would
            return _error(code, "scripted failure")
        body = await request.json()
        openid = body.get("touser", "")
        invalid = self._message_error(body)
        if invalid is not None:
            return invalid
        last = self.last_inbound.get(openid)
        if last is None or time.time() - last > WINDOW_SECONDS:
            return _error(45015, "response out of time limit or subscription is canceled")
        if self.replies_in_window.get(openid, 0) >= self.replies_per_window:
            return _error(45047, "out of response count limit")
        self.replies_in_window[openid] = self.replies_in_window.get(openid, 0) + 1
        self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})
