"""The presence frames from a client that is not aiohttp's (websocket-client, its own
framing and masking): wrong types and sizes are refused with a stable code, the socket
lives on, nothing is stored."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websocket

from hub.state import TOKENS
from tests.helpers.hub import ensure_agent


def _exchange(url: str, frames: list[Any], answers: int) -> list[dict[str, Any]]:
    ws = websocket.create_connection(url, timeout=10)
    try:
        for frame in frames:
            ws.send(frame if isinstance(frame, str) else json.dumps(frame))
        return [json.loads(ws.recv()) for _ in range(answers)]
    finally:
        ws.close()


async def test_visitor_presence_frames_of_the_wrong_shape_are_refused(client, db) -> None:
    url = f"ws://{client.host}:{client.port}/chat"
    frames = [
        {"type": "hello"},
        {"type": "seen", "id": 5},
        {"type": "seen"},
        {"type": "typing", "text": "sneaky"},
        {"type": "typing"},  # fine, and silent: no conversation yet
        {"type": "ping"},
    ]
    answers = await asyncio.to_thread(_exchange, url, frames, 5)
    assert [a["type"] for a in answers] == ["welcome", "error", "error", "error", "pong"]
    assert {a.get("code") for a in answers[1:4]} == {"invalid_frame"}
    assert await db.messages.count_documents({}) == 0


async def test_agent_typing_frames_are_bounded_and_typed(client, config) -> None:
    ensure_agent(config, "ada")
    token = client.app[TOKENS].issue("ada", "agent")
    url = f"ws://{client.host}:{client.port}/inbox/ws?access_token={token}"
    frames = [
        {"type": "typing", "conversation_id": "x" * 2000},
        {"type": "typing", "conversation_id": 12},
        {"type": "typing"},
        {"type": "ping"},
    ]
    answers = await asyncio.to_thread(_exchange, url, frames, 5)
    assert [a["type"] for a in answers] == ["ready", "error", "error", "error", "pong"]
    assert [a["code"] for a in answers[1:4]] == [
        "frame_too_large",
        "invalid_frame",
        "invalid_frame",
    ]
