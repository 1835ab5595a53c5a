"""What one customer socket already holds of each conversation, so replies reach it once,
in commit order, with no gap.

Replies can reach a socket out of order (two agents on two hub instances, the change
stream of one instance behind another's writes), and the history a reconnecting client
asked for can overlap them. Every message carries its conversation's ``seq``
(storage/sequence.py: seq n is stored only once n - 1 is), so a socket delivers seq n
only after everything below it: a reply it holds already is dropped, and a reply past a
gap is preceded by the gap, read from storage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(slots=True)
class ClientPosition:
    """Per conversation, the highest seq the client has (or was shown it needs not have)."""

    held: dict[str, int] = field(default_factory=dict)
    # True once the client was sent history: from then on it holds everything up to the
    # positions in ``held``, and a conversation newer than those starts at seq 0.
    synced: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def synced_to(self, positions: Mapping[str, int]) -> None:
        for conversation_id, seq in positions.items():
            self.hold(conversation_id, seq)
        self.synced = True

    def hold(self, conversation_id: str, seq: int) -> None:
        self.held[conversation_id] = max(seq, self.held.get(conversation_id, 0))

    def acked(self, conversation_id: str, seq: int | None) -> None:
        """The client's own message was stored as ``seq``; it holds it if nothing is between."""
        if seq is not None and self.start(conversation_id) == seq - 1:
            self.held[conversation_id] = seq

    def start(self, conversation_id: str) -> int | None:
        """Where the client's copy of the conversation ends; None when unknown (deliver
        as it comes: the client never asked for history, or it is an older conversation)."""
        if conversation_id in self.held:
            return self.held[conversation_id]
        if self.synced and all(conversation_id > known for known in self.held):
            return 0
        return None
