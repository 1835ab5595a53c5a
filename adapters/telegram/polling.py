"""Long polling with ``getUpdates`` for installs without a public URL.

The offset lives in MongoDB (a channel checkpoint), saved after each batch is stored:
a restart resumes right after the last stored update, neither replaying nor skipping.
An update that cannot be stored stops the batch there; the offset stays before it and
the poller tries again after a pause.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot
from telegram.error import NetworkError, RetryAfter

from adapters.telegram.sender import retry_after_seconds
from hub.channels.port import ChannelState
from hub.runtime.background import BackgroundLoop

log = logging.getLogger(__name__)

CHECKPOINT = "telegram:offset"
MAX_PAUSE_SECONDS = 60.0

# Stores one update; returns False when it could not be stored and must be tried again.
UpdateProcessor = Callable[[dict[str, Any]], Awaitable[bool]]


class UpdateNotStored(RuntimeError):
    """An update of the batch could not be stored; the offset stays before it."""


class UpdatePoller:
    """The polling loop: fetch a batch, store each update, then persist the new offset."""

    def __init__(
        self,
        bot: Bot,
        state: ChannelState,
        process: UpdateProcessor,
        timeout_seconds: int,
        request_timeout_seconds: float,
    ) -> None:
        self.bot = bot
        self.state = state
        self.process = process
        self.timeout_seconds = timeout_seconds
        self.request_timeout_seconds = request_timeout_seconds
        self.offset: int | None = None
        self._loaded = False
        # Network and database trouble: wait and try the same offset again, backing off.
        # Anything else (Conflict: another poller or a webhook is active; InvalidToken: bad
        # config) is logged with its trace, once, and retried the same way.
        self._loop = BackgroundLoop(
            "telegram polling",
            self._tick,
            interval=1.0,
            max_retry=MAX_PAUSE_SECONDS,
            expected=(NetworkError, UpdateNotStored),
            logger=log,
        )

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _tick(self) -> float:
        if not self._loaded:  # inside the loop: a database still starting is retried
            saved = await self.state.load_checkpoint(CHECKPOINT)
            self.offset = int(saved) if saved is not None else None
            self._loaded = True
        try:
            await self.poll_once()
        except RetryAfter as exc:
            return retry_after_seconds(exc)
        return 0.0

    async def poll_once(self) -> int:
        """Fetch and store one batch; returns how many updates were stored."""
        updates = await self.bot.get_updates(
            offset=self.offset,
            timeout=self.timeout_seconds,
            read_timeout=self.request_timeout_seconds,
            allowed_updates=["message", "edited_message"],
        )
        stored = 0
        for update in updates:
            payload = json.loads(update.to_json())
            if not await self.process(payload):
                break
            self.offset = update.update_id + 1
            stored += 1
        if stored:
            await self.state.save_checkpoint(CHECKPOINT, self.offset)
        if stored < len(updates):
            raise UpdateNotStored("an update could not be stored")
        return stored
