"""Times reports need kept on the conversation: its first public agent reply, and when a
person first held it. Each is written once per conversation and never changes after.

Concurrent notes share one bulk update; a conversation whose time this process knows is
written is not asked again, so an agent's later replies cost nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime

from pymongo import UpdateOne

from storage.errors import StorageBoundary
from storage.group_commit import GroupCommit
from storage.mongo import MongoStore

# Conversations remembered per time; an older one forgotten is only asked again.
REMEMBERED = 10_000


class ConversationTimes(StorageBoundary):
    """``first_reply_at`` and ``human_at`` on ``conversations``, the first one only."""

    def __init__(self, mongo: MongoStore) -> None:
        self.conversations = mongo.collection("conversations")
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._writer: GroupCommit[UpdateOne, None] = GroupCommit(
            self._write, name="conversation times"
        )

    async def note(self, field: str, conversation_id: str, at: datetime) -> None:
        """Keep ``at`` as the conversation's ``field`` unless it has one; returns once the
        conversation has it."""
        key = (field, conversation_id)
        if key in self._known:
            return
        await self._writer.submit(
            UpdateOne({"_id": conversation_id, field: {"$exists": False}}, {"$set": {field: at}})
        )
        self._known[key] = None
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)

    async def close(self) -> None:
        await self._writer.close()

    async def _write(self, updates: Sequence[UpdateOne]) -> list[None]:
        await self.conversations.bulk_write(list(updates), ordered=False)
        return [None] * len(updates)
