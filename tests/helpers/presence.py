"""Presence scenarios: an agent's live feed socket, frames read up to a marker."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientWebSocketResponse

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
