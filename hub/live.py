"""The agents' live feed: ``GET /inbox/ws`` streams inbox events to authenticated agents.

Browsers cannot set headers on a WebSocket, so the JWT comes as the first frame
(``{"type": "auth", "token": …}``) or as ``?access_token=``. Every socket has a bounded
queue (``hub.send_queue``): an agent whose socket falls behind is closed with 1013 and
reloads the list.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from hub.auth import Principal, TokenService
from hub.errors import Unauthorized
from hub.events import InboxEvent
from hub.send_queue import SendQueue
from hub.websocket import CheckedWebSocketResponse

log = logging.getLogger(__name__)

AUTH_TIMEOUT_SECONDS = 10.0
CLOSE_POLICY_VIOLATION = 4401


def event_frame(event: InboxEvent) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": event.kind,
        "conversation": event.conversation.model_dump(mode="json"),
        "new_conversation": event.new_conversation,
    }
    if event.message is not None:
        frame["message"] = event.message.model_dump(mode="json", exclude={"raw"})
    return frame


def _frame_type(data: str) -> str | None:
    try:
        frame = json.loads(data)
    except ValueError:
        return None
    kind = frame.get("type") if isinstance(frame, dict) else None
    return kind if isinstance(kind, str) else None


class AgentSocket(SendQueue):
    def __init__(
        self,
        ws: web.WebSocketResponse,
        principal: Principal,
        queue_size: int,
        on_drop: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(ws, queue_size, on_drop)
        self.principal = principal


class AgentFeed:
    """Fans inbox events out to every connected agent socket."""

    def __init__(
        self,
        tokens: TokenService,
        queue_size: int = 1024,
        heartbeat: float = 25.0,
        on_drop: Callable[[], None] | None = None,
    ):
        self.tokens = tokens
        self.queue_size = queue_size
        self.heartbeat = heartbeat
        self.on_drop = on_drop
        self.sockets: set[AgentSocket] = set()

    async def on_event(self, event: InboxEvent) -> None:
        if not self.sockets:
            return
        frame = event_frame(event)
        for sock in list(self.sockets):
            sock.push(frame)

    async def close_all(self) -> None:
        for sock in list(self.sockets):
            await sock.ws.close(code=1012, message=b"restarting")

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = CheckedWebSocketResponse(heartbeat=self.heartbeat, max_msg_size=65_536)
        await ws.prepare(request)
        try:
            principal = await self._authenticate(request, ws)
        except Unauthorized as exc:
            await ws.send_json({"type": "error", "code": exc.code, "message": exc.message})
            await ws.close(code=CLOSE_POLICY_VIOLATION, message=b"unauthorized")
            return ws
        sock = AgentSocket(ws, principal, self.queue_size, self.on_drop)
        writer = asyncio.get_running_loop().create_task(sock.drain_forever())
        self.sockets.add(sock)
        sock.push({"type": "ready", "agent": principal.subject, "role": principal.role})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and _frame_type(msg.data) == "ping":
                    sock.push({"type": "pong"})
        finally:
            self.sockets.discard(sock)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
        return ws

    async def _authenticate(self, request: web.Request, ws: web.WebSocketResponse) -> Principal:
        token = request.query.get("access_token")
        if token is None:
            try:
                async with asyncio.timeout(AUTH_TIMEOUT_SECONDS):
                    msg = await ws.receive()
            except TimeoutError as exc:
                raise Unauthorized("send an auth frame first", code="missing_token") from exc
            frame: Any = None
            if msg.type == WSMsgType.TEXT:
                with contextlib.suppress(ValueError):
                    frame = msg.json()
            if not isinstance(frame, dict) or frame.get("type") != "auth":
                raise Unauthorized(
                    "the first frame must be {type: auth, token}", code="missing_token"
                )
            token = str(frame.get("token", ""))
        return self.tokens.verify(token)
