"""The agents' live feed: ``GET /inbox/ws`` streams inbox events to authenticated agents.

Browsers cannot set headers on a WebSocket, so the JWT comes as the first frame
(``{"type": "auth", "token": …}``) or as ``?access_token=``. Every socket has a bounded
queue (``hub.http.send_queue``): an agent whose socket falls behind is closed with 1013 and
reloads the list.

Each event goes only to sockets whose caller may see it (``hub.access.visibility``, the rule
REST applies). A socket lives no longer than its token: it is closed with 4401 and the
reason ``token_expired`` at the token's ``exp``, or ``session_revoked`` once the login
session the token was issued for (its ``sid`` claim) has ended. A logout or a refresh
reuse on this instance ends its sockets at once; one on another instance is seen by the
next periodic check (``web.agent_session_check_seconds``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from hub.access.tokens import Principal, TokenService
from hub.access.visibility import may_see
from hub.errors import StorageError, Unauthorized
from hub.http.send_queue import SendQueue
from hub.http.websocket import CheckedWebSocketResponse
from hub.runtime.background import BackgroundLoop, LoopDone
from hub.runtime.events import InboxEvent
from hub.runtime.presence import PresenceSignal

log = logging.getLogger(__name__)

AUTH_TIMEOUT_SECONDS = 10.0
# The client should authenticate again (refresh its token) before it reconnects.
CLOSE_POLICY_VIOLATION = 4401
# The access-token claim naming the login session (refresh-token family) it belongs to,
# put there by hub.api.auth at login and refresh.
SESSION_CLAIM = "sid"

SessionActive = Callable[[str], Awaitable[bool]]
# A handler for a frame type agents may send (``typing``, added by ``hub.api.presence``):
# it gets the caller and the raw frame and may answer with a frame (an error, say).
FrameHandler = Callable[[Principal, str], Awaitable[dict[str, Any] | None]]


FRAME_EXCLUDES: Any = {"raw": True, "attachments": {"__all__": {"storage_key", "thumbnail_key"}}}


def event_frame(event: InboxEvent) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": event.kind,
        "conversation": event.conversation.model_dump(mode="json"),
        "new_conversation": event.new_conversation,
    }
    if event.message is not None:
        # Storage keys stay inside: the inbox asks the API for signed links instead.
        frame["message"] = event.message.model_dump(mode="json", exclude=FRAME_EXCLUDES)
    if event.actor is not None:  # who changed it, so their own inbox does not alert them
        frame["actor"] = {"kind": event.actor.kind, "id": event.actor.id}
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
        # Re-checks the token on a timer; woken when this socket's session is revoked here.
        self.watcher: BackgroundLoop | None = None
        self.ending = False  # the watcher is closing it: let that finish, do not cancel it

    @property
    def session(self) -> str | None:
        sid = self.principal.claims.get(SESSION_CLAIM)
        return sid if isinstance(sid, str) else None


class AgentFeed:
    """Fans inbox events out to every connected agent socket."""

    def __init__(
        self,
        tokens: TokenService,
        queue_size: int = 1024,
        heartbeat: float = 25.0,
        on_drop: Callable[[], None] | None = None,
        session_active: SessionActive | None = None,
        session_check_seconds: float = 30.0,
    ):
        self.tokens = tokens
        self.queue_size = queue_size
        self.heartbeat = heartbeat
        self.on_drop = on_drop
        self.session_active = session_active
        self.session_check_seconds = session_check_seconds
        self.sockets: set[AgentSocket] = set()
        self.frame_handlers: dict[str, FrameHandler] = {}

    async def on_signal(self, signal: PresenceSignal) -> None:
        """Customers' typing and read receipts, to the sockets that may see the
        conversation (an agent's typing is for the customer)."""
        if signal.kind == "agent_typing":
            return
        frame = signal.frame()
        for sock in list(self.sockets):
            if may_see(sock.principal, signal.conversation, None):
                sock.push(frame)

    async def on_event(self, event: InboxEvent) -> None:
        if not self.sockets:
            return
        frame = event_frame(event)
        for sock in list(self.sockets):
            if may_see(sock.principal, event.conversation, event.message):
                sock.push(frame)

    async def token_still_valid(self, principal: Principal) -> str | None:
        """None while a socket's token holds; otherwise why not (the close reason).

        The one place a live socket's token is re-checked, on a timer and on revocation.
        """
        exp = principal.claims.get("exp")
        if isinstance(exp, int | float) and exp <= time.time():
            return "token_expired"
        sid = principal.claims.get(SESSION_CLAIM)
        if isinstance(sid, str) and self.session_active is not None:
            try:
                active = await self.session_active(sid)
            except StorageError:
                # Not known to be revoked: the next check asks again.
                log.warning("agent socket session not checked: database unavailable")
                return None
            if not active:
                return "session_revoked"
        return None

    def end_session(self, session: str | None) -> None:
        """A session was revoked on this instance: have its sockets re-checked now."""
        for sock in list(self.sockets):
            if session is not None and sock.session == session and sock.watcher is not None:
                sock.watcher.wake()

    async def close_all(self, code: int = 1012, message: bytes = b"restarting") -> None:
        """Close every socket (1012 on restart; 1013 when the inbox must reload its list)."""
        for sock in list(self.sockets):
            await sock.ws.close(code=code, message=message)

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
        sock.watcher = watcher = self._watcher(sock)
        watcher.start()
        self.sockets.add(sock)
        sock.push({"type": "ready", "agent": principal.subject, "role": principal.role})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                kind = _frame_type(msg.data)
                handler = self.frame_handlers.get(kind or "")
                if kind == "ping":
                    sock.push({"type": "pong"})
                elif handler is not None:
                    answer = await handler(principal, msg.data)
                    if answer is not None:
                        sock.push(answer)
        finally:
            self.sockets.discard(sock)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
            await watcher.stop(grace=None if sock.ending else 0.0)
        return ws

    def _watcher(self, sock: AgentSocket) -> BackgroundLoop:
        """Close the socket when its token stops holding: at ``exp``, or its session's end."""
        first = True

        async def check() -> float:
            nonlocal first
            if not first:
                await self._check(sock)
            first = False
            delay = self.session_check_seconds
            exp = sock.principal.claims.get("exp")
            if isinstance(exp, int | float):
                delay = min(delay, exp - time.time())
            return delay

        return BackgroundLoop("agent session check", check, interval=self.session_check_seconds)

    async def _check(self, sock: AgentSocket) -> None:
        reason = await self.token_still_valid(sock.principal)
        if reason is None:
            return
        log.info("agent socket closed", extra={"agent": sock.principal.subject, "reason": reason})
        sock.ending = True
        self.sockets.discard(sock)  # no event reaches it while it closes
        await sock.close(CLOSE_POLICY_VIOLATION, reason.encode())
        raise LoopDone

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
