"""In-process fan-out of inbox events to whoever listens (agent sockets, bot, mirrors)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from hub.domain import Author, Conversation, Message

log = logging.getLogger(__name__)

# "message_updated": a sender edited or deleted a stored message (its history kept).
# "message_files": a platform's file on a stored message was fetched into the media store.
EventKind = Literal["message", "conversation", "message_updated", "message_files"]


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """Something changed in the inbox: a message stored, or a conversation updated."""

    kind: EventKind
    conversation: Conversation
    message: Message | None = None
    new_conversation: bool = False
    # For "conversation" events: the conversation before the change, who made it and why.
    previous: Conversation | None = None
    actor: Author | None = None
    reason: str | None = None


Listener = Callable[[InboxEvent], Awaitable[None]]


class EventBus:
    """Runs every listener for every event in its own task, so one slow listener delays none.

    Listeners are reactions that come after the durable write; a failing listener is
    logged and never affects the write or other listeners.
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> int:
        """Listener tasks not finished yet (the fan-out queue depth)."""
        return len(self._tasks)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, event: InboxEvent) -> None:
        for listener in self._listeners:
            task = asyncio.get_running_loop().create_task(self._run(listener, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, listener: Listener, event: InboxEvent) -> None:
        try:
            await listener(event)
        except Exception:
            log.exception("inbox event listener failed", extra={"listener": repr(listener)})

    async def drain(self, grace: float = 5.0) -> None:
        """Wait for running listeners (used on shutdown and by tests that need quiescence)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
