"""Presence for agents: typing to customers, read receipts live, and agents' read marks.

Agents send ``{"type": "typing", "conversation_id"}`` on their live feed while they type a
reply; the conversation's channel shows it to the customer when it declares
``Capability.TYPING`` (the widget shows "agent is typing", Telegram ``sendChatAction``).
An agent may signal only in a conversation it may see (``hub.access.visibility``) and never as a
viewer. Customers' typing and read receipts reach the feed from ``hub.runtime.presence``.

Each agent's own read mark per conversation is stored (``POST /conversations/{id}/read``,
``GET /reads``), so unread counts survive a reload.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any, Literal, cast

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hub.access.tokens import Principal, Role
from hub.access.visibility import may_see
from hub.api.routes import API_ROUTES, principal_of
from hub.api.schemas import Timestamp
from hub.channels.port import Capability, ChannelAdapter, ShowsTyping
from hub.core.business_hours import within_hours
from hub.domain import Author, Conversation, utcnow
from hub.errors import StorageError
from hub.http.json_api import parse_query
from hub.http.rate_limit import AddressBuckets
from hub.runtime.presence import PresenceSignal, SignalListener
from hub.state import CHANNELS, CONFIG, HUB, LIVE, MONGO
from storage.presence import AgentReads

log = logging.getLogger(__name__)

READS = web.AppKey("agent_reads", AgentReads)
# Every role reads the inbox, so every role keeps its own read marks.
READERS: tuple[Role, ...] = ("admin", "agent", "viewer")
MAX_SIGNAL_FRAME_BYTES = 1024
# How far back ``GET /reads`` looks by default, and the most marks it answers.
READS_WINDOW = timedelta(days=30)
MAX_READS = 1000


class AgentTypingFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["typing"]
    conversation_id: str = Field(min_length=1, max_length=64)


class ReadMark(BaseModel):
    conversation_id: str
    read_at: AwareDatetime


class ReadMarks(BaseModel):
    items: list[ReadMark]


class ReadsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Timestamp | None = None


def _error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}


class AgentTyping:
    """Handles the ``typing`` frames agents send on ``/inbox/ws``."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        web_config = app[CONFIG].web
        self.rate = AddressBuckets(
            web_config.signal_burst, web_config.signal_refill_per_second, 100_000
        )

    async def __call__(self, principal: Principal, data: str) -> dict[str, Any] | None:
        if len(data.encode("utf-8", "surrogatepass")) > MAX_SIGNAL_FRAME_BYTES:
            return _error(
                "frame_too_large", f"frames are limited to {MAX_SIGNAL_FRAME_BYTES} bytes"
            )
        try:
            frame = AgentTypingFrame.model_validate(json.loads(data))
        except (ValueError, ValidationError):
            return _error("invalid_frame", "typing takes {type: typing, conversation_id}")
        if principal.role == "viewer":
            return _error("forbidden", "viewers do not reply, so they do not type")
        wait = self.rate.take(principal.subject)
        if wait > 0:
            return _error(
                "rate_limited", "too many typing frames", retry_after_seconds=round(wait, 2)
            )
        hub = self.app[HUB]
        try:
            conversation = await hub.conversation(frame.conversation_id)
        except StorageError:
            return _error("storage_unavailable", "try again shortly", temporary=True)
        if conversation is None or not may_see(principal, conversation, None):
            return _error("unknown_conversation", "no conversation you may see has that id")
        if not hub.presence.gate.admit(("agent", principal.subject, conversation.id)):
            return None
        author = Author(
            kind="agent", id=principal.subject, name=str(principal.claims.get("name", ""))
        )
        await show_typing(self.app[CHANNELS].able(Capability.TYPING), conversation, author)
        # The customer's socket may be on another instance: it shows the signal there.
        await hub.presence.publish(PresenceSignal("agent_typing", conversation, author))
        return None


async def show_typing(
    adapters: list[ChannelAdapter], conversation: Conversation, author: Author
) -> None:
    """Tell the conversation's customer an agent is typing, through its channel."""
    for adapter in adapters:
        if adapter.channel != conversation.channel:
            continue
        try:
            await cast(ShowsTyping, adapter).show_typing(conversation, author)
        except Exception:  # a signal: never worth the agent's socket
            log.exception("typing not shown", extra={"channel": conversation.channel})


def typing_from_elsewhere(app: web.Application) -> SignalListener:
    """An agent typing on another instance: shown by the channels that push to customer
    sockets connected here (``LIVE``); the others (Telegram's chat action) were told once,
    by the instance the agent types on."""
    channels = app[CHANNELS]
    live = set(channels.able(Capability.LIVE))
    shown = [a for a in channels.able(Capability.TYPING) if a in live]

    async def listener(signal: PresenceSignal) -> None:
        if signal.kind == "agent_typing" and signal.author is not None:
            await show_typing(shown, signal.conversation, signal.author)

    return listener


async def mark_read(request: web.Request) -> web.Response:
    conversation = await request.app[HUB].require_conversation(request.match_info["id"])
    read_at = await request.app[READS].mark(
        principal_of(request).subject, conversation.id, utcnow()
    )
    mark = ReadMark(conversation_id=conversation.id, read_at=read_at)
    return web.json_response(mark.model_dump(mode="json"))


async def list_reads(request: web.Request) -> web.Response:
    query = parse_query(request, ReadsQuery)
    since = query.since or utcnow() - READS_WINDOW
    docs = await request.app[READS].since(principal_of(request).subject, since, MAX_READS)
    marks = ReadMarks(items=[ReadMark.model_validate(d) for d in docs])
    return web.json_response(marks.model_dump(mode="json"))


class Availability(BaseModel):
    available: bool
    reason: Literal["closed", "no_agent_online"] | None


async def widget_availability(request: web.Request) -> web.Response:
    """Whether someone answers now: within ``web.widget.hours``, and the bot on or an agent
    connected to this instance's inbox (or marked online, as Slack agents are). The widget
    offers its offline form ("we'll answer by email") when not. The bot answers first, so
    while it is on nobody online is no reason to stop a customer from writing."""
    app = request.app
    reason: Literal["closed", "no_agent_online"] | None = None
    if not within_hours(app[CONFIG].web.widget.hours, utcnow()):
        reason = "closed"
    elif not app[CONFIG].bot.enabled and not await _agent_online(app):
        reason = "no_agent_online"
    body = Availability(available=reason is None, reason=reason)
    return web.json_response(body.model_dump(), headers={"Access-Control-Allow-Origin": "*"})


async def _agent_online(app: web.Application) -> bool:
    if any(sock.principal.role in ("admin", "agent") for sock in app[LIVE].sockets):
        return True
    return any(agent.online and not agent.disabled for agent in await app[HUB].agents.list())


def setup(app: web.Application) -> None:
    app[READS] = AgentReads(app[MONGO])
    feed = app[LIVE]
    feed.frame_handlers["typing"] = AgentTyping(app)
    app[HUB].presence.subscribe(feed.on_signal)
    app[HUB].presence.subscribe(typing_from_elsewhere(app), remote_only=True)
    routes = app[API_ROUTES]
    routes.add(
        "POST",
        "/conversations/{id}/read",
        mark_read,
        roles=READERS,
        summary="Mark the conversation read up to now for the calling agent",
        response=ReadMark,
        body_optional=True,
    )
    routes.add(
        "GET",
        "/reads",
        list_reads,
        roles=READERS,
        summary="The calling agent's read marks set since a time (30 days by default)",
        query=ReadsQuery,
        response=ReadMarks,
    )
    routes.add(
        "GET",
        "/widget/availability",
        widget_availability,
        roles=(),
        public=True,
        summary="Whether an agent answers the chat now (business hours, someone connected)",
        response=Availability,
    )
