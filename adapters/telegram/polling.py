"""Long polling with ``getUpdates`` for installs without a public URL.

The offset lives in MongoDB (a channel checkpoint), saved after each batch is stored:
a restart resumes right after the last stored update, neither replaying nor skipping.
An update that cannot be stored stops the batch there; the offset stays before it and
the poller tries again after a pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot
from telegram.error import Conflict, InvalidToken, RetryAfter

from adapters.telegram.sender import retry_after_seconds
from hub.channels import ChannelState

log = logging.getLogger(__name__)

CHECKPOINT = "telegram:offset"
MAX_PAUSE_SECONDS = 60.0

# Stores one update; returns False when it could not be stored and must be tried again.
UpdateProcessor = Callable[[dict[str, Any]], Awaitable[bool]]


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
        self._task: asyncio.Task[None] | None = None
        self._failures = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="telegram-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loaded = False
        while True:
            try:
                if not loaded:  # inside the loop: a database still starting is retried
                    saved = await self.state.load_checkpoint(CHECKPOINT)
                    self.offset = int(saved) if saved is not None else None
                    loaded = True
                await self.poll_once()
                self._failures = 0
            except asyncio.CancelledError:
                raise
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
            except (Conflict, InvalidToken) as exc:
                # Conflict: another poller or a webhook is active; InvalidToken: bad config.
                log.error("telegram polling refused", extra={"error": type(exc).__name__})
                await self._pause()
            except Exception as exc:  # network, database: wait and try the same offset again
                log.warning("telegram polling failed", extra={"error": repr(exc)[:200]})
                await self._pause()

    async def _pause(self) -> None:
        self._failures += 1
        await asyncio.sleep(min(MAX_PAUSE_SECONDS, 0.5 * 2 ** min(self._failures, 7)))

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
            raise RuntimeError("an update could not be stored")
        return stored
