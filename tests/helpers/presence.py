"""Presence scenarios: an agent's live feed socket, frames read up to a marker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import ClientWebSocketResponse, web
from aiohttp.test_utils import TestClient

from hub.state import CONFIG, TOKENS
from tests.helpers.hub import ensure_agent
from tests.helpers.web_chat import next_frame


async def agent_feed_ready(ws: ClientWebSocketResponse, token: str) -> None:
    """Authenticate a ``/inbox/ws`` socket and wait for ``ready``."""
    await ws.send_json({"type": "auth", "token": token})
    await next_frame(ws, "ready")


async def frames_before_pong(ws: ClientWebSocketResponse) -> list[dict[str, Any]]:
    """Ping, and return every frame that arrived before the pong: what the socket had been
    sent up to now (each socket's frames keep their order)."""
    await ws.send_json({"type": "ping"})
    frames = []
    while (frame := await ws.receive_json(timeout=10))["type"] != "pong":
        frames.append(frame)
    return frames


async def visitor_message(ws: ClientWebSocketResponse, text: str, client_id: str) -> dict[str, Any]:
    """Send a message from the visitor and return its ack."""
    await ws.send_json({"type": "message", "text": text, "client_id": client_id})
    return await next_frame(ws, "ack")


@asynccontextmanager
async def agent_online(
    client: TestClient[web.Request, web.Application], agent_id: str = "onduty"
) -> AsyncIterator[ClientWebSocketResponse]:
    """An agent connected to the inbox feed for the block, so the widget's chat is open."""
    ensure_agent(client.app[CONFIG], agent_id)
    async with client.ws_connect("/inbox/ws") as ws:
        await agent_feed_ready(ws, client.app[TOKENS].issue(agent_id, "agent"))
        yield ws
