"""What channels must remember across restarts, kept in MongoDB rather than in memory.

- ``links``: explicit mappings between a conversation and a platform object (a Slack
  thread, a tweet) so replies and threads follow; stored, never recomputed.
- ``seen_events``: platform delivery ids (Slack ``event_id``, Telegram ``update_id``)
  claimed once through a unique key, so a platform retry is processed once.
- ``checkpoints``: polling positions (Telegram offset, X ``since_id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from hub.domain import utcnow
from storage.errors import StorageBoundary
from storage.mongo import MongoStore


class ChannelStateStore(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.links = mongo.collection("links")
        self.seen = mongo.collection("seen_events")
        self.checkpoints = mongo.collection("checkpoints")

    async def link(self, conversation_id: str, channel: str, kind: str, key: str) -> bool:
        """Record that ``key`` on ``channel`` stands for the conversation; False if known."""
        try:
            await self.links.insert_one(
                {
                    "conversation_id": conversation_id,
                    "channel": channel,
                    "kind": kind,
                    "key": key,
                    "created_at": utcnow(),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def conversation_for(self, channel: str, kind: str, key: str) -> str | None:
        doc = await self.links.find_one({"channel": channel, "kind": kind, "key": key})
        return str(doc["conversation_id"]) if doc else None

    async def keys_for(self, conversation_id: str, channel: str, kind: str) -> list[str]:
        cursor = self.links.find(
            {"conversation_id": conversation_id, "channel": channel, "kind": kind}
        ).sort("created_at", ASCENDING)
        return [str(doc["key"]) async for doc in cursor]

    async def first_sighting(self, channel: str, event_id: str) -> bool:
        """True the first time ``event_id`` is seen on ``channel``, False ever after."""
        try:
            await self.seen.insert_one({"_id": f"{channel}:{event_id}", "seen_at": utcnow()})
        except DuplicateKeyError:
            return False
        return True

    async def forget_sighting(self, channel: str, event_id: str) -> None:
        """Undo ``first_sighting`` when processing failed, so the platform's retry is taken."""
        await self.seen.delete_one({"_id": f"{channel}:{event_id}"})

    async def load_checkpoint(self, name: str) -> Any:
        doc = await self.checkpoints.find_one({"_id": name})
        return doc["value"] if doc else None

    async def save_checkpoint(self, name: str, value: Any) -> datetime:
        at = utcnow()
        await self.checkpoints.update_one(
            {"_id": name}, {"$set": {"value": value, "updated_at": at}}, upsert=True
        )
        return at
