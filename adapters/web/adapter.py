"""``WebChatAdapter``: customer WebSockets in, agent and bot replies out.

Each socket has a bounded send queue drained by its own writer task (``hub.http.send_queue``),
so a slow reader never blocks the hub: when its queue is full the socket is closed with
1013 ("try again later") and the client resumes with its visitor token and asks for
history.

Volume limits (``web`` config, in memory per process): a visitor's messages spend a token
bucket, and an address's spend one as large as its connection limit's worth of visitors
(so reconnecting as new visitors gains nothing); over it a message gets an error frame
``rate_limited`` and is not stored. An address may hold ``max_connections_per_address``
sockets; one more is refused with HTTP 429 ``too_many_connections`` before the upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import WSMsgType, web

from adapters.web.config import WebChatConfig
from adapters.web.frames import (
    ClientFrame,
    ContactFrame,
    FrameError,
    HelloFrame,
    HistoryFrame,
    MessageFrame,
    PingFrame,
    SeenFrame,
    TypingFrame,
    error_frame,
    parse_frame,
)
from adapters.web.ordering import ClientPosition
from hub.channels.port import HubPort, PublicOperation, VisitorTokens
from hub.domain import (
    Attachment,
    Author,
    Channel,
    Conversation,
    DeliveryResult,
    InboundMessage,
    Message,
    OutboundMessage,
)
from hub.errors import BadRequest, NotFound, RateLimited, StorageError, Unauthorized
from hub.http.rate_limit import AddressBuckets, client_address
from hub.http.send_queue import CLOSE_TRY_AGAIN_LATER, SendQueue
from hub.http.uploads import read_upload
from hub.http.websocket import CheckedWebSocketResponse
from hub.runtime.logs import bind, log_context, new_trace_id
from hub.runtime.metrics import RejectionCause
from hub.runtime.presence import TYPING_SECONDS

log = logging.getLogger(__name__)

CLOSE_SERVICE_RESTART = 1012
UPLOAD_PATH = "/chat/uploads"
# The most a socket buffers for one message (README, web chat protocol).
MAX_MESSAGE_BYTES = 1_048_576
# Messages of one socket stored at once (more wait for the oldest to be acknowledged).
MAX_IN_FLIGHT = 32

# What each refused frame counts as in ``chorus_webhook_rejections_total``.
_REJECTION_CAUSES: dict[str, RejectionCause] = {
    "frame_too_large": "size",
    "invalid_json": "parse",
    "invalid_frame": "parse",
    "unknown_type": "parse",
    "unsupported_frame": "parse",
}


Links = Callable[[Attachment], dict[str, str]]


def attachment_json(attachments: Sequence[Attachment], links: Links | None) -> list[Any]:
    """Attachments as the customer sees them: no storage keys, signed links to stored files."""
    return [
        {
            **a.model_dump(mode="json", exclude={"storage_key", "thumbnail_key", "sha256"}),
            **(links(a) if links is not None else {}),
        }
        for a in attachments
    ]


def message_frame(message: Message, links: Links | None = None) -> dict[str, Any]:
    """A stored message as the customer sees it (no internal fields, no raw payload)."""
    return {
        "type": "message",
        "id": message.id,
        "direction": message.direction,
        "author": {"kind": message.author.kind, "name": message.author.name},
        "text": message.text,
        "attachments": attachment_json(message.attachments, links),
        "created_at": message.created_at.isoformat(),
        "client_id": message.client_id if message.direction == "inbound" else None,
        "seq": message.seq,
    }


def _owner(visitor_id: str) -> str:
    return f"web:{visitor_id}"


class CustomerSocket(SendQueue):
    """One connected customer socket and its bounded outgoing queue."""

    def __init__(
        self, ws: web.WebSocketResponse, queue_size: int, on_drop: Callable[[], None]
    ) -> None:
        super().__init__(ws, queue_size, on_drop)
        self.address = ""
        self.visitor_id: str | None = None
        self.name: str = ""
        self.writer: asyncio.Task[None] | None = None
        self.position = ClientPosition()
        # Clear while a frame is being handled, so a drain can wait for its ack.
        self.idle = asyncio.Event()
        self.idle.set()
        # Messages being stored, in arrival order; their acks follow in that order.
        self.in_flight: set[asyncio.Task[None]] = set()

    def track(self, task: asyncio.Task[None]) -> None:
        self.in_flight.add(task)
        task.add_done_callback(self._landed)

    def _landed(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("web chat message failed", exc_info=task.exception())
        if not self.in_flight:
            self.idle.set()

    async def settled(self) -> None:
        """Wait until every message in flight is stored and acknowledged (or refused)."""
        while self.in_flight:
            await asyncio.wait(set(self.in_flight))

    async def close_for_restart(self) -> None:
        """Finish the frame in hand, write everything queued, then ask for a reconnect."""
        await self.idle.wait()
        flushed = asyncio.ensure_future(self.queue.join())
        waiters: set[asyncio.Future[None]] = {flushed}
        if self.writer is not None:
            waiters.add(self.writer)
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        flushed.cancel()
        await self.ws.close(code=CLOSE_SERVICE_RESTART, message=b"restarting")


class WebChatAdapter:
    """The web chat channel (``GET /chat``)."""

    channel: Channel = "web"

    def __init__(
        self,
        config: WebChatConfig,
        hub: HubPort,
        tokens: VisitorTokens,
        trust_forwarded_for: bool = False,
    ) -> None:
        self.config = config
        self.hub = hub
        self.tokens = tokens
        self.trust_forwarded_for = trust_forwarded_for
        self.sockets: dict[str, set[CustomerSocket]] = defaultdict(set)
        self._all: set[CustomerSocket] = set()
        self._per_address: dict[str, int] = defaultdict(int)
        burst, refill = config.message_burst, config.message_refill_per_second
        self._visitor_rate = AddressBuckets(burst, refill, 100_000)
        per_address = config.max_connections_per_address
        self._address_rate = AddressBuckets(per_address * burst, per_address * refill, 100_000)
        # Typing and read receipts spend a budget of their own, apart from messages'.
        self._signal_rate = AddressBuckets(
            config.signal_burst, config.signal_refill_per_second, 100_000
        )
        self._draining = False
        self._deliveries: set[asyncio.Task[None]] = set()

    @property
    def _links(self) -> Links | None:
        return self.hub.media.links if self.hub.media is not None else None

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.get("/chat", self.handle_socket), web.post(UPLOAD_PATH, self.handle_upload)]

    async def handle_upload(self, request: web.Request) -> web.Response:
        """A visitor's file, before the message that carries it: checked and stored by the
        hub, answered with its attachment (``media_id`` and signed links)."""
        media = self.hub.media
        if media is None:
            raise NotFound("this hub keeps no files", code="media_disabled")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("send Authorization: Bearer <visitor token>", code="missing_token")
        visitor_id = self.tokens.verify_visitor(token.strip())
        wait = max(
            self._visitor_rate.take(visitor_id),
            self._address_rate.take(client_address(request, self.trust_forwarded_for)),
        )
        if wait > 0:
            self.hub.metrics.web_limited_by("message_rate")
            raise RateLimited("too many uploads; try again shortly")
        upload = await read_upload(request, max_file_bytes=media.max_bytes, max_files=1)
        if len(upload.files) != 1:
            raise BadRequest("send one form part named file", code="invalid_form")
        file = upload.files[0]
        attachment = await media.keep(file.data, file.name, owner=_owner(visitor_id))
        return web.json_response(attachment_json([attachment], media.links)[0], status=201)

    def api_operations(self) -> Sequence[PublicOperation]:
        return [
            PublicOperation(
                "GET",
                "/widget/config",
                self.widget_config,
                "The chat widget's title, colour, greeting, position and language (public)",
            )
        ]

    async def widget_config(self, request: web.Request) -> web.Response:
        """What every widget on any site may read: the ``web.widget`` settings, no more."""
        # Any site may embed the widget, so any origin may read this (nothing secret in it).
        return web.json_response(
            self.config.widget.model_dump(mode="json"),
            headers={"Access-Control-Allow-Origin": "*"},
        )

    async def start(self) -> None:
        return None

    async def drain(self) -> None:
        """Stop taking frames; once each socket got what it is owed, close it with 1012."""
        self._draining = True
        await asyncio.gather(*(sock.close_for_restart() for sock in list(self._all)))

    async def stop(self) -> None:
        for task in list(self._deliveries):
            task.cancel()
        for sock in list(self._all):
            await sock.ws.close(code=CLOSE_SERVICE_RESTART, message=b"restarting")

    @property
    def connection_count(self) -> int:
        return len(self._all)

    async def send(self, outbound: OutboundMessage) -> DeliveryResult:
        # Stored is delivered: connected visitors get the reply from ``push_live`` (on
        # whichever instance holds their socket), offline ones read it from history.
        return DeliveryResult.sent(outbound.message_id)

    def push_live(self, outbound: OutboundMessage) -> int:
        """Queue a reply to the recipient's sockets on this process; returns how many."""
        frame = {
            "type": "message",
            "id": outbound.message_id,
            "direction": "outbound",
            "author": {"kind": outbound.author.kind, "name": outbound.author.name},
            "text": outbound.text,
            "attachments": attachment_json(outbound.attachments, self._links),
            "seq": outbound.seq,
        }
        sockets = list(self.sockets.get(outbound.recipient_id, ()))
        for sock in sockets:
            if outbound.conversation_id is None or outbound.seq is None:
                sock.push(frame)
                continue
            task = asyncio.get_running_loop().create_task(
                self._deliver_in_order(sock, frame, outbound.conversation_id, outbound.seq)
            )
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        log.debug(
            "web chat reply pushed",
            extra={"message_id": outbound.message_id, "sockets": len(sockets)},
        )
        return len(sockets)

    async def _deliver_in_order(
        self, sock: CustomerSocket, frame: dict[str, Any], conversation_id: str, seq: int
    ) -> None:
        """Push ``frame`` after whatever of its conversation the client is missing below it."""
        async with sock.position.lock:
            start = sock.position.start(conversation_id)
            if start is not None and seq <= start:
                return  # the client has it (from history, or a fill before it)
            if start is not None and seq > start + 1:
                try:
                    missing = await self.hub.conversation_messages(conversation_id, start, seq)
                except StorageError:
                    # Without the gap the reply would break the order: the client resyncs.
                    log.warning("web chat gap unreadable: asking the client to resync")
                    await sock.ws.close(code=CLOSE_TRY_AGAIN_LATER, message=b"resync")
                    return
                for message in missing:
                    sock.push(message_frame(message, self._links))
            sock.push(frame)
            sock.position.hold(conversation_id, seq)

    async def handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        address = client_address(request, self.trust_forwarded_for)
        if self._per_address[address] >= self.config.max_connections_per_address:
            self.hub.metrics.web_limited_by("connections")
            raise RateLimited(
                f"this address has {self.config.max_connections_per_address} chat connections "
                "open already; close one first",
                code="too_many_connections",
            )
        self._per_address[address] += 1
        try:
            return await self._serve_socket(request, address)
        finally:
            self._per_address[address] -= 1
            if self._per_address[address] <= 0:
                del self._per_address[address]

    async def _serve_socket(self, request: web.Request, address: str) -> web.WebSocketResponse:
        ws = CheckedWebSocketResponse(
            heartbeat=self.config.heartbeat_seconds,
            # Up to the cap a frame over web.max_frame_bytes gets an error frame; past it
            # aiohttp closes with 1009 (Message Too Big) rather than buffer more.
            # (aiohttp refuses a message of exactly max_msg_size bytes, hence the + 1.)
            max_msg_size=max(self.config.max_frame_bytes, MAX_MESSAGE_BYTES) + 1,
        )
        await ws.prepare(request)
        sock = CustomerSocket(
            ws,
            self.config.send_queue_size,
            on_drop=lambda: self.hub.metrics.slow_reader_dropped("customer"),
        )
        sock.address = address
        sock.writer = asyncio.get_running_loop().create_task(sock.drain_forever())
        self._all.add(sock)
        self.hub.metrics.socket_opened("customer")
        try:
            async for msg in ws:
                if self._draining:
                    continue  # not acknowledged: the client resends it after reconnecting
                if msg.type == WSMsgType.TEXT:
                    sock.idle.clear()
                    with log_context(trace_id=new_trace_id()):
                        await self._take_text(sock, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self.hub.metrics.rejected("web", "parse")
                    sock.push(error_frame("unsupported_frame", "send text frames"))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            await sock.settled()  # the messages in flight are stored and acknowledged
            self.hub.metrics.socket_closed("customer")
            self._forget(sock)
            sock.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await sock.writer
        return ws

    def _forget(self, sock: CustomerSocket) -> None:
        self._all.discard(sock)
        if sock.visitor_id is not None:
            peers = self.sockets.get(sock.visitor_id)
            if peers is not None:
                peers.discard(sock)
                if not peers:
                    del self.sockets[sock.visitor_id]

    async def _take_text(self, sock: CustomerSocket, data: str) -> None:
        """Handle one text frame. A plain message does not wait for the ones before it to
        be stored: its write joins theirs (it is queued in arrival order, before anything
        here can suspend), so a visitor's fast messages share batches instead of each
        waiting a whole write. Any other frame waits for the messages in flight first."""
        frame: ClientFrame | None
        try:
            frame = parse_frame(data, self.config.max_frame_bytes)
        except FrameError:
            frame = None  # refused below, in order with the rest
        if isinstance(frame, MessageFrame) and not frame.attachments:
            if len(sock.in_flight) >= MAX_IN_FLIGHT:
                await asyncio.wait(sock.in_flight, return_when=asyncio.FIRST_COMPLETED)
            task = asyncio.get_running_loop().create_task(self._on_text(sock, data, frame))
            sock.track(task)
            return
        await sock.settled()
        try:
            await self._on_text(sock, data, frame)
        finally:
            if not sock.in_flight:
                sock.idle.set()

    async def _on_text(
        self, sock: CustomerSocket, data: str, parsed: ClientFrame | None = None
    ) -> None:
        try:
            frame = parsed if parsed is not None else parse_frame(data, self.config.max_frame_bytes)
            if isinstance(frame, HelloFrame):
                await self._on_hello(sock, frame)
            elif isinstance(frame, MessageFrame):
                await self._on_message(sock, frame)
            elif isinstance(frame, HistoryFrame):
                await self._send_history(sock, frame.since)
            elif isinstance(frame, PingFrame):
                sock.push({"type": "pong"})
            elif isinstance(frame, TypingFrame | SeenFrame):
                await self._on_signal(sock, frame)
            elif isinstance(frame, ContactFrame):
                await self._on_contact(sock, frame)
        except FrameError as exc:
            self.hub.metrics.rejected("web", _REJECTION_CAUSES.get(exc.code, "invalid"))
            sock.push(error_frame(exc.code, exc.message))
        except Unauthorized as exc:
            self.hub.metrics.rejected("web", "signature")
            sock.push(error_frame(exc.code, exc.message))
        except StorageError:
            log.warning("web chat frame refused: database unavailable")
            sock.push(
                error_frame(
                    "storage_unavailable",
                    "the message was not stored; send it again shortly",
                    temporary=True,
                )
            )

    def _bind(self, sock: CustomerSocket, visitor_id: str, *, issued: bool) -> None:
        if sock.visitor_id == visitor_id:
            return
        self._forget(sock)
        self._all.add(sock)
        sock.visitor_id = visitor_id
        sock.position = ClientPosition()  # another visitor's conversations, from scratch
        self.sockets[visitor_id].add(sock)
        welcome: dict[str, Any] = {"type": "welcome", "visitor_id": visitor_id}
        welcome["visitor_token"] = self.tokens.issue_visitor(visitor_id)
        welcome["resumed"] = not issued
        sock.push(welcome)

    async def _on_hello(self, sock: CustomerSocket, frame: HelloFrame) -> None:
        if frame.name is not None:
            sock.name = frame.name.strip()
        if frame.visitor_token:
            self._bind(sock, self.tokens.verify_visitor(frame.visitor_token), issued=False)
        elif sock.visitor_id is None:
            self._bind(sock, uuid.uuid4().hex, issued=True)
        if frame.history or frame.history_since is not None:
            await self._send_history(sock, frame.history_since)

    async def _attachments(self, visitor_id: str, media_ids: list[str]) -> list[Attachment]:
        """The visitor's own uploads named by a message frame."""
        if not media_ids:
            return []
        if self.hub.media is None:
            raise FrameError("unknown_attachment", "this hub keeps no files")
        try:
            return await self.hub.media.owned(media_ids, _owner(visitor_id), None)
        except NotFound as exc:
            raise FrameError("unknown_attachment", exc.message) from None

    async def _on_message(self, sock: CustomerSocket, frame: MessageFrame) -> None:
        text = frame.text.strip()
        if not text and not frame.attachments:
            raise FrameError("empty_message", "a message needs some text")
        if len(text) > self.config.max_text_chars:
            raise FrameError(
                "text_too_long", f"messages are limited to {self.config.max_text_chars} characters"
            )
        if sock.visitor_id is None:
            self._bind(sock, uuid.uuid4().hex, issued=True)
        assert sock.visitor_id is not None
        try:
            attachments = await self._attachments(sock.visitor_id, frame.attachments)
        except FrameError as exc:
            self.hub.metrics.rejected("web", "invalid")
            sock.push(error_frame(exc.code, exc.message, client_id=frame.client_id))
            return
        wait = max(self._visitor_rate.take(sock.visitor_id), self._address_rate.take(sock.address))
        if wait > 0:
            self.hub.metrics.web_limited_by("message_rate")
            sock.push(
                error_frame(
                    "rate_limited",
                    "too many messages; this one was not stored, send it again later",
                    client_id=frame.client_id,
                    retry_after_seconds=round(wait, 2),
                )
            )
            return
        # Without a client id every frame is a new message; with one, a resend is the same.
        client_key = frame.client_id or f"auto-{uuid.uuid4().hex}"
        log.debug(
            "web chat message received",
            extra={"visitor_id": sock.visitor_id, "client_id": frame.client_id},
        )
        result = await self.hub.receive(
            InboundMessage(
                channel="web",
                external_id=f"{sock.visitor_id}:{client_key}",
                sender_id=sock.visitor_id,
                sender_name=sock.name,
                thread_key=sock.visitor_id,
                text=text,
                attachments=tuple(attachments),
                client_id=frame.client_id,
                raw={"frame": frame.model_dump()},
            )
        )
        bind(message_id=result.message.id)
        sock.position.acked(result.message.conversation_id, result.message.seq)
        log.debug("web chat message acknowledged", extra={"duplicate": result.duplicate})
        sock.push(
            {
                "type": "ack",
                "client_id": frame.client_id,
                "id": result.message.id,
                "duplicate": result.duplicate,
            }
        )

    async def _send_history(self, sock: CustomerSocket, since: str | None) -> None:
        if sock.visitor_id is None:
            raise FrameError(
                "no_identity", "say hello with a visitor token before asking for history"
            )
        async with sock.position.lock:  # live replies wait, then skip what history gave
            page = await self.hub.history("web", sock.visitor_id, since, self.config.history_limit)
            sock.push(
                {
                    "type": "history",
                    "messages": [message_frame(m, self._links) for m in page.messages],
                    "more": page.more,
                }
            )
            sock.position.synced_to(page.positions)

    async def _on_signal(self, sock: CustomerSocket, frame: TypingFrame | SeenFrame) -> None:
        """Typing or a read receipt, always about the visitor's own conversations."""
        if sock.visitor_id is None:
            raise FrameError("no_identity", f"say hello before sending {frame.type}")
        wait = self._signal_rate.take(sock.visitor_id)
        if wait > 0:
            self.hub.metrics.web_limited_by("signal_rate")
            sock.push(
                error_frame(
                    "rate_limited",
                    f"too many {frame.type} frames; slow down",
                    retry_after_seconds=round(wait, 2),
                )
            )
            return
        if isinstance(frame, TypingFrame):
            await self.hub.customer_typing("web", sock.visitor_id, sock.visitor_id)
        elif not await self.hub.customer_seen("web", sock.visitor_id, frame.id):
            raise FrameError("unknown_message", "no message of yours has that id")

    async def show_typing(self, conversation: Conversation, author: Author) -> None:
        """Show "agent is typing" on the visitor's sockets on this process."""
        frame = {
            "type": "typing",
            "author": {"kind": author.kind, "name": author.name},
            "expires_in_seconds": TYPING_SECONDS,
        }
        for sock in list(self.sockets.get(conversation.recipient_id, ())):
            sock.push(frame)

    async def _on_contact(self, sock: CustomerSocket, frame: ContactFrame) -> None:
        """The pre-chat or offline form: the visitor's name and email, on their contact."""
        if sock.visitor_id is None:
            raise FrameError("no_identity", "say hello before sending contact details")
        name = (frame.name or "").strip()
        if not name and frame.email is None:
            raise FrameError("empty_contact", "give a name or an email")
        if self._signal_rate.take(sock.visitor_id) > 0:
            raise FrameError("rate_limited", "too many contact frames; slow down")
        await self.hub.save_contact_details("web", sock.visitor_id, name, frame.email)
        if name:
            sock.name = name
        sock.push({"type": "contact_saved"})
