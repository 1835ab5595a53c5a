"""The bot's memory per conversation, its failure counters, and customers' ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.domain import utcnow
from storage.mongo import Document, MongoStore


class BotStore:
    """``bot_sessions`` (one per conversation), ``bot_counters``, ``ratings`` and
    ``bot_misses`` (turns it had no answer for, which reports list)."""

    def __init__(self, mongo: MongoStore) -> None:
        self.sessions = mongo.collection("bot_sessions")
        self.counters = mongo.collection("bot_counters")
        self.ratings = mongo.collection("ratings")
        self.misses = mongo.collection("bot_misses")

    async def session(self, conversation_id: str) -> Document:
        doc = await self.sessions.find_one({"_id": conversation_id})
        return doc or {"_id": conversation_id}

    async def save_session(self, conversation_id: str, fields: dict[str, Any]) -> None:
        await self.sessions.update_one(
            {"_id": conversation_id},
            {"$set": {**fields, "updated_at": utcnow()}},
            upsert=True,
        )

    async def count(self, name: str, by: int = 1) -> None:
        await self.counters.update_one({"_id": name}, {"$inc": {"value": by}}, upsert=True)

    async def counter_values(self) -> dict[str, int]:
        return {doc["_id"]: int(doc["value"]) async for doc in self.counters.find({})}

    async def save_rating(
        self, conversation_id: str, contact_id: str, score: int, assignee: str | None
    ) -> None:
        """One rating per conversation; a second answer replaces the first."""
        await self.ratings.update_one(
            {"_id": conversation_id},
            {
                "$set": {
                    "contact_id": contact_id,
                    "score": score,
                    "assignee": assignee,
                    "at": utcnow(),
                }
            },
            upsert=True,
        )

    async def ratings_since(self, since: datetime) -> list[Document]:
        return [doc async for doc in self.ratings.find({"at": {"$gte": since}})]

    async def record_miss(self, conversation_id: str, channel: str, text: str) -> None:
        """A question the bot had no answer for (what the knowledge base is missing)."""
        await self.misses.insert_one(
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "text": text[:200],
                "at": utcnow(),
            }
        )
