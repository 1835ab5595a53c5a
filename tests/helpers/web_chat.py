"""Reading a web chat socket's frames."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientWebSocketResponse


async def next_frame(ws: ClientWebSocketResponse, kind: str | None = None) -> dict[str, Any]:
    """The next frame (of ``kind``, skipping others)."""
    while True:
        frame = await ws.receive_json(timeout=10)
        if kind is None or frame["type"] == kind:
            return frame
