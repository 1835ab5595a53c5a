"""A local fake of the Slack Web API, for tests: real HTTP, real response shapes.

It serves ``POST/GET /api/{method}`` the way slack.com does (``{"ok": true, ...}`` or
``{"ok": false, "error": "..."}``, HTTP 429 with ``Retry-After`` when rate limited), checks
the bot token, records every call, and serves ``/respond/{id}`` as the response URLs that
slash commands and buttons carry. Tests script failures with ``fail_next``.

Files: private files a test adds (``private_file``) are served at ``/files-pri/…`` to the
bot token only, like files.slack.com; uploads follow the current flow, as slack_sdk's
``files_upload_v2`` drives it: ``files.getUploadURLExternal`` hands out an upload URL (on
this server), the bytes are posted there, and ``files.completeUploadExternal`` shares
them into a channel or thread, recorded in ``shared_files``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TEAM_ID = "T0CHORUS"
BOT_USER_ID = "U0CHORUSBOT"
BOT_ID = "B0CHORUSBOT"
APP_ID = "A0CHORUS"


@dataclass
class SlackCall:
    """One request the fake received."""

    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class ScriptedFailure:
    method: str
    error: str
    status: int = 200
    retry_after: int | None = None
    channel: str | None = None
    delay: float = 0.0


class FakeSlackApi:
    """The Web API a test's hub talks to; ``url`` is set once it is served."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.url = ""
        self.calls: list[SlackCall] = []
        self.responses: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self._failures: list[ScriptedFailure] = []
        self._clock = itertools.count(1)
        self._file_ids = itertools.count(1)
        self.private_files: dict[str, tuple[str, bytes]] = {}
        self.upload_slots: dict[str, dict[str, Any]] = {}
        self.shared_files: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_get("/files-pri/{id}/{name:.+}", self._private_file)
        app.router.add_post("/upload/v1/{id}", self._upload)
        return app

    def private_file(self, name: str, content: bytes, mimetype: str) -> dict[str, Any]:
        """A file a user shared, as it appears in a message event's ``files``."""
        file_id = f"F{next(self._file_ids):08d}"
        self.private_files[file_id] = (name, content)
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "size": len(content),
            "url_private": f"{self.url}files-pri/{file_id}/{name}",
            "url_private_download": f"{self.url}files-pri/{file_id}/download/{name}",
            "permalink": f"https://chorus-test.slack.com/files/{file_id}/{name}",
        }

    async def _private_file(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=302, headers={"Location": "https://slack.com/signin"})
        found = self.private_files.get(request.match_info["id"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[1], content_type="application/octet-stream")

    async def _upload(self, request: web.Request) -> web.Response:
        slot = self.upload_slots.get(request.match_info["id"])
        if slot is None:
            return web.Response(status=404, text="unknown upload")
        slot["content"] = await request.read()
        return web.Response(text=f"OK - {len(slot['content'])}")

    # -- scripting and inspection ------------------------------------------------------
    def fail_next(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        channel: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next call of ``method`` (to ``channel``, if given) with an error.

        With ``delay`` the answer comes that late, so a client with a shorter timeout
        sees a timeout and the call is known not to have taken effect.
        """
        self._failures.append(ScriptedFailure(method, error, status, retry_after, channel, delay))

    def rate_limit_next(self, method: str, retry_after: int, channel: str | None = None) -> None:
        self.fail_next(method, "ratelimited", status=429, retry_after=retry_after, channel=channel)

    def calls_to(self, method: str, **match: Any) -> list[SlackCall]:
        return [
            c
            for c in self.calls
            if c.method == method and all(c.args.get(k) == v for k, v in match.items())
        ]

    def user_id(self, name: str) -> str:
        """Register a Slack user so ``users.info`` knows them; returns their id."""
        user_id = "U" + name.upper()
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name.lower(),
            "real_name": name,
            "is_bot": False,
            "profile": {"real_name": name, "display_name": name.lower()},
        }
        return user_id

    # -- HTTP ---------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        self.calls.append(SlackCall(method, args))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        failure = self._take_failure(method, args)
        if failure is not None:
            await asyncio.sleep(failure.delay)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response(handler(args))

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append({"id": request.match_info["id"], **await request.json()})
        return web.Response(text="ok")

    def _take_failure(self, method: str, args: dict[str, Any]) -> ScriptedFailure | None:
        for failure in self._failures:
            if failure.method == method and failure.channel in (None, args.get("channel")):
                self._failures.remove(failure)
                return failure
        return None

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._clock):06d}"

    # -- methods ------------------------------------------------------------------------
    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://chorus-test.slack.com/",
            "team": "Chorus Test",
            "user": "chorus",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._ts()
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": args.get("text", ""),
            "ts": ts,
        }
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "channel": args.get("channel"),
            "ts": args.get("ts"),
            "text": args.get("text", ""),
        }

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._ts()}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):08d}"
        self.upload_slots[file_id] = {"filename": args["filename"], "length": int(args["length"])}
        return {"ok": True, "upload_url": f"{self.url}upload/v1/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = json.loads(args.get("files") or "[]")
        shared = []
        for item in files:
            slot = self.upload_slots.get(item.get("id"))
            if slot is None or "content" not in slot or len(slot["content"]) != slot["length"]:
                return {"ok": False, "error": "file_not_found"}
            shared.append({"id": item["id"], "name": slot["filename"], "title": item.get("title")})
            self.shared_files.append(
                {**slot, "id": item["id"], "title": item.get("title"),
                 "channel": args.get("channel_id"), "thread_ts": args.get("thread_ts")}
            )  # fmt: skip
        return {"ok": True, "files": shared}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}


async def _read_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        args.update(json.loads(await request.text() or "{}"))
    elif request.can_read_body:
        args.update(dict(await request.post()))
    return args


def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack signs a request with: v0 HMAC-SHA256 over ``v0:{ts}:{body}``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_callback(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    """An Events API envelope around ``event``, as Slack posts it."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": {"event_ts": event.get("ts", ""), **event},
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def block_actions(
    user_id: str, channel: str, message_ts: str, action_id: str, value: str, response_url: str
) -> dict[str, Any]:
    """A ``block_actions`` interaction payload: ``user_id`` pressed a button."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "1.2.3",
        "team": {"id": TEAM_ID, "domain": "chorus-test"},
        "channel": {"id": channel, "name": "agents"},
        "message": {"type": "message", "ts": message_ts, "user": BOT_USER_ID, "bot_id": BOT_ID},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "chorus_conversation",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
