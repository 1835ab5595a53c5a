"""A local Telegram Bot API server for tests: the real HTTP API shape, on loopback.

It serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` like api.telegram.org:
parameters by query string, form (urlencoded or multipart) or JSON; answers in the real
envelope (``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``). ``getUpdates`` long-polls and forgets updates below the
offset it is given, as Telegram does. ``sendPhoto``/``sendDocument`` take the file as a
multipart part (as PTB uploads it) and answer the message with its ``photo`` sizes or
``document``, built with PTB's own classes; ``uploads`` keeps the bytes received. Tests script failures with ``fail_next`` and block
chats with ``block``, and read what the bot did from ``calls`` and ``sent``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from telegram import Chat, Document, Message, PhotoSize, User

BOT_USER = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "Chorus",
    "username": "chorus_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
MAX_TEXT = 4096
# The actions sendChatAction accepts (Bot API, sendChatAction).
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}


@dataclass(frozen=True)
class UploadedPart:
    """A file the bot uploaded in a multipart request."""

    filename: str
    content_type: str
    content: bytes


@dataclass
class ScriptedFailure:
    status: int | None  # None: answer this call normally
    description: str = ""
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class FakeTelegramAPI:
    """State and handlers of the fake; ``app`` is served by the test's aiohttp server."""

    token: str = "123456:TEST-fake-token"
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    call_times: list[tuple[str, float]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    webhook: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, list[ScriptedFailure]] = field(default_factory=dict)
    _next_message_id: int = 1000
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _closing: bool = False

    # -- what tests do --------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for ``getUpdates`` (as if a user wrote to the bot)."""
        self.updates.append(update)
        self._new_update.set()

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        skip: int = 0,
        delay: float = 0.0,
    ) -> None:
        """Answer ``times`` calls of ``method`` with this error, after ``skip`` normal ones."""
        failure = ScriptedFailure(status, description, retry_after, delay)
        script = self.failures.setdefault(method, [])
        script.extend([ScriptedFailure(None)] * skip + [failure] * times)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sends to this chat get 403 from now on."""
        self.blocked.add(chat_id)

    def add_file(self, file_id: str, path: str, content: bytes) -> None:
        self.files[file_id] = (path, content)

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def times_of(self, method: str) -> list[float]:
        return [at for name, at in self.call_times if name == method]

    # -- the HTTP side ------------------------------------------------------------
    @property
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        return app

    def release_long_polls(self) -> None:
        """Answer waiting getUpdates now and hold no new ones, so the server stops at once."""
        self._closing = True
        self._new_update.set()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _error(404, "Not Found")
        params = await _params(request)
        self.calls.append((method, params))
        self.call_times.append((method, time.monotonic()))
        scripted = self.failures.get(method)
        failure = scripted.pop(0) if scripted else None
        if failure is not None and failure.status is not None:
            if failure.delay:
                await asyncio.sleep(failure.delay)  # a slow server, for client timeouts
            return _error(failure.status, failure.description, failure.retry_after)
        return await handler(params)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        for path, content in self.files.values():
            if path == request.match_info["path"]:
                return web.Response(body=content, content_type="application/octet-stream")
        return _error(404, "Not Found")

    # -- Bot API methods ------------------------------------------------------------
    async def _m_getme(self, params: dict[str, Any]) -> web.Response:
        return _ok(BOT_USER)

    async def _m_getupdates(self, params: dict[str, Any]) -> web.Response:
        if self.webhook.get("url"):
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        if offset:
            # Telegram forgets every update below the offset: they are confirmed.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if not self.updates and timeout and not self._closing:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return _ok(self.updates[:limit])

    async def _m_sendmessage(self, params: dict[str, Any]) -> web.Response:
        text = str(params.get("text") or "")
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            return _error(400, "Bad Request: chat not found")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        self._next_message_id += 1
        message = {
            "message_id": self._next_message_id,
            "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        self.sent.append({**params, "chat_id": chat_id, "message_id": message["message_id"]})
        return _ok(message)

    async def _m_sendphoto(self, params: dict[str, Any]) -> web.Response:
        return self._file_message(params, "photo")

    async def _m_senddocument(self, params: dict[str, Any]) -> web.Response:
        return self._file_message(params, "document")

    def _file_message(self, params: dict[str, Any], field_name: str) -> web.Response:
        upload = params.get(field_name)
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            return _error(400, "Bad Request: chat not found")
        if not isinstance(upload, UploadedPart) or not upload.content:
            return _error(400, f"Bad Request: there is no {field_name} in the request")
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        self._next_message_id += 1
        file_id = f"sent-{self._next_message_id}"
        self.add_file(file_id, f"{field_name}s/{upload.filename}", upload.content)
        extra: dict[str, Any] = {}
        if field_name == "photo":
            extra["photo"] = (PhotoSize(file_id, f"u-{file_id}", 320, 240, len(upload.content)),)
        else:
            extra["document"] = Document(
                file_id, f"u-{file_id}", file_name=upload.filename,
                mime_type=upload.content_type, file_size=len(upload.content),
            )  # fmt: skip
        message = Message(
            self._next_message_id,
            datetime.now(UTC),
            Chat(chat_id, Chat.PRIVATE),
            from_user=User(
                BOT_USER["id"], BOT_USER["first_name"], True, username="chorus_test_bot"
            ),
            **extra,
        )
        self.uploads.append(
            {"method": field_name, "chat_id": chat_id, "filename": upload.filename,
             "content_type": upload.content_type, "content": upload.content,
             "message_id": self._next_message_id}
        )  # fmt: skip
        return _ok(message.to_dict())

    async def _m_sendchataction(self, params: dict[str, Any]) -> web.Response:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            return _error(400, "Bad Request: chat not found")
        if params.get("action") not in CHAT_ACTIONS:
            return _error(400, "Bad Request: wrong parameter action in request")
        if chat_id in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        return _ok(True)

    async def _m_getfile(self, params: dict[str, Any]) -> web.Response:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        path, content = self.files[file_id]
        return _ok(
            {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(content),
                "file_path": path,
            }
        )

    async def _m_setwebhook(self, params: dict[str, Any]) -> web.Response:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            return _error(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook = dict(params)
        return _ok(True)

    async def _m_deletewebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = {}
        return _ok(True)


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.method == "POST":
        for key, value in (await request.post()).items():
            if isinstance(value, str):
                params[key] = value
            else:  # a file part
                params[key] = UploadedPart(value.filename, value.content_type, value.file.read())
    # Form fields carry non-string values JSON-encoded, as the real API accepts them.
    for key in ("allowed_updates",):
        if isinstance(params.get(key), str):
            with contextlib.suppress(json.JSONDecodeError):
                params[key] = json.loads(params[key])
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
