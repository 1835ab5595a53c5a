"""Ephemeral presence: who is typing, and customers' read receipts as they happen.

Typing signals are never kept and never take a ``seq``: they go to whoever is connected
now and expire on their own (``TYPING_SECONDS``), so a client never waits for a "stopped
typing". Each sender's signals per conversation are collapsed to one per
``TYPING_INTERVAL`` (``TypingGate``), which bounds the fan-out however fast a keyboard is.
Signals published here reach this process's listeners at once and, through the relay
(``hub.sync.presence_relay``), the other hub instances', which ``deliver`` them.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Literal

from hub.domain import Author, Conversation

log = logging.getLogger(__name__)

# How long a typing indicator shows without a fresh signal.
TYPING_SECONDS = 6.0
# At most one typing signal per sender and conversation is passed on in this time.
TYPING_INTERVAL = 2.0
# Senders remembered by a gate (the oldest are forgotten first).
GATE_SIZE = 100_000


class TypingGate:
    """Lets one signal per key through every ``interval`` seconds (monotonic clock)."""

    def __init__(
        self,
        interval: float = TYPING_INTERVAL,
        size: int = GATE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.size = size
        self.clock = clock
        self._last: OrderedDict[Hashable, float] = OrderedDict()

    def admit(self, key: Hashable) -> bool:
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self.size:
            self._last.popitem(last=False)
        return True


@dataclass(frozen=True, slots=True)
class PresenceSignal:
    """A customer typing, a customer's read receipt moving forward, or an agent typing
    (``agent_typing``, with the agent as ``author``)."""

    kind: Literal["typing", "seen", "agent_typing"]
    conversation: Conversation
    author: Author | None = None

    def frame(self) -> dict[str, Any]:
        """The signal as the agents' live feed sends it."""
        conversation = self.conversation
        if self.kind == "typing":
            return {
                "type": "typing",
                "conversation_id": conversation.id,
                "who": "customer",
                "expires_in_seconds": TYPING_SECONDS,
            }
        return {
            "type": "seen",
            "conversation_id": conversation.id,
            "seq": conversation.customer_seen_seq,
            "at": conversation.customer_seen_at.isoformat()
            if conversation.customer_seen_at
            else None,
        }


SignalListener = Callable[[PresenceSignal], Awaitable[None]]


class Presence:
    """Passes presence signals to listeners (the agents' live feed) on this process, and
    to the relay that shares them with the other instances."""

    def __init__(self) -> None:
        self.gate = TypingGate()
        self._listeners: list[SignalListener] = []
        # Only for signals another instance published (it handled them where they began).
        self._remote_listeners: list[SignalListener] = []
        self.relay: SignalListener | None = None

    def subscribe(self, listener: SignalListener, *, remote_only: bool = False) -> None:
        (self._remote_listeners if remote_only else self._listeners).append(listener)

    async def publish(self, signal: PresenceSignal) -> None:
        """A signal that began on this instance: here first, then to the others."""
        await self._notify(self._listeners, signal)
        if self.relay is not None:
            await self._notify([self.relay], signal)

    async def deliver(self, signal: PresenceSignal) -> None:
        """A signal another instance published, for this instance's listeners."""
        await self._notify([*self._listeners, *self._remote_listeners], signal)

    @staticmethod
    async def _notify(listeners: list[SignalListener], signal: PresenceSignal) -> None:
        for listener in listeners:
            try:
                await listener(signal)
            except Exception:
                log.exception("presence listener failed")
