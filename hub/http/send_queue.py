"""A WebSocket's bounded outgoing queue, written by a task of its own.

Fan-out (a reply to a customer, an inbox event to every agent) only ever puts a frame on
a queue, so a reader that has stopped reading cannot hold up anyone else. Buffering for
it without bound would let one stalled client eat the process's memory, so when its
queue is full the socket is closed, once, with 1013 ("try again later"). Nothing is lost
by that: the client reconnects and resyncs from storage (customers ask for history since
their last message, agents reload the list).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

CLOSE_TRY_AGAIN_LATER = 1013
# A reader that never reads again never takes the close frame either; past this the
# connection is cut so its buffers are freed.
CLOSE_GRACE_SECONDS = 10.0


class SendQueue:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        size: int,
        on_drop: Callable[[], None] | None = None,
    ) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(size)
        self.dropped = False
        self._on_drop = on_drop
        self._closing: asyncio.Task[None] | None = None

    def push(self, frame: dict[str, Any]) -> bool:
        """Queue a frame; False once the reader has fallen behind (the socket is closing)."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped = True
            log.warning("slow WebSocket reader dropped", extra={"queued": self.queue.qsize()})
            if self._on_drop is not None:
                self._on_drop()
            self._closing = asyncio.get_running_loop().create_task(self._close())
            return False
        return True

    async def _close(self) -> None:
        await self.close(CLOSE_TRY_AGAIN_LATER, b"resync")

    async def close(self, code: int, message: bytes) -> None:
        """Close the socket, cutting it after ``CLOSE_GRACE_SECONDS`` if the peer never answers."""
        # On timeout aiohttp aborts the transport itself.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_GRACE_SECONDS):
                await self.ws.close(code=code, message=message)

    async def drain_forever(self) -> None:
        while True:
            frame = await self.queue.get()
            try:
                await self.ws.send_json(frame)
            finally:
                self.queue.task_done()
