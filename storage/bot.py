"""The bot's memory per conversation, its failure counters, and customers' ratings."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from hub.domain import utcnow
from storage.errors import StorageBoundary
from storage.group_commit import GroupCommit
from storage.mongo import Document, MongoStore

COUNTER_FLUSH_SECONDS = 1.0


class BotStore(StorageBoundary):
    """The bot's session on each conversation (``conversations.bot``), ``bot_counters``,
    ``ratings`` and ``bot_misses`` (turns it had no answer for, which reports list).
    Sessions written before they moved onto the conversation are read once from
    ``bot_sessions``."""

    def __init__(self, mongo: MongoStore, counter_flush_seconds: float = COUNTER_FLUSH_SECONDS):
        self.conversations = mongo.collection("conversations")
        self.legacy_sessions = mongo.collection("bot_sessions")
        self.counters = mongo.collection("bot_counters")
        self.ratings = mongo.collection("ratings")
        self.counter_flush_seconds = counter_flush_seconds
        self._unflushed: Counter[str] = Counter()
        # External bot failures per (UTC day, channel, kind), which reports chart per day.
        self.failures = mongo.collection("bot_webhook_failures")
        self._failures: Counter[tuple[str, str, str]] = Counter()
        self._flusher: asyncio.Task[None] | None = None
        self.misses = mongo.collection("bot_misses")
        self._sessions: GroupCommit[UpdateOne, None] = GroupCommit(
            self._write_sessions, name="bot sessions"
        )
        # Misses of concurrent turns (a burst of newcomers the bot cannot answer) share
        # one insert.
        self._misses: GroupCommit[Document, None] = GroupCommit(
            self._insert_misses, name="bot misses"
        )

    async def legacy_session(self, conversation_id: str) -> Document | None:
        return await self.legacy_sessions.find_one({"_id": conversation_id})

    async def save_session(self, conversation_id: str, fields: dict[str, Any]) -> None:
        """Store the conversation's session; returns once it is durable. Sessions of
        concurrent conversations are written together, in the order they were saved."""
        await self._sessions.submit(
            UpdateOne(
                {"_id": conversation_id}, {"$set": {"bot": {**fields, "updated_at": utcnow()}}}
            )
        )

    async def _write_sessions(self, updates: Sequence[UpdateOne]) -> list[None]:
        await self.conversations.bulk_write(list(updates), ordered=True)
        return [None] * len(updates)

    async def close(self) -> None:
        """Write pending counters and stop the session writer."""
        await self._sessions.close()
        await self._misses.close()
        await self.flush_counters()

    async def count(self, name: str, by: int = 1) -> None:
        """Add to a counter; increments are written together about once a second."""
        self._unflushed[name] += by
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())

    async def count_webhook_failure(self, channel: str, kind: str) -> None:
        """One failed call of the external bot, counted on today's row (written with the
        counters, about once a second)."""
        self._failures[(utcnow().date().isoformat(), channel, kind)] += 1
        await self.count("webhook_failures")
        await self.count(f"webhook_failures.{kind}")

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.counter_flush_seconds)
        await self.flush_counters()

    async def flush_counters(self) -> None:
        """Write the increments not written yet, in one command (and the day's failures)."""
        await self._flush_failures()
        pending, self._unflushed = self._unflushed, Counter()
        if not pending:
            return
        try:
            await self.counters.bulk_write(
                [
                    UpdateOne({"_id": name}, {"$inc": {"value": by}}, upsert=True)
                    for name, by in pending.items()
                ],
                ordered=False,
            )
        except Exception:
            self._unflushed.update(pending)  # written with the next flush
            raise

    async def _flush_failures(self) -> None:
        pending, self._failures = self._failures, Counter()
        if not pending:
            return
        try:
            await self.failures.bulk_write(
                [
                    UpdateOne(
                        # The id starts with the day, so a day's rows are one _id range.
                        {"_id": f"{day}|{channel}|{kind}"},
                        {
                            "$inc": {"count": by},
                            "$setOnInsert": {"day": day, "channel": channel, "kind": kind},
                        },
                        upsert=True,
                    )
                    for (day, channel, kind), by in pending.items()
                ],
                ordered=False,
            )
        except Exception:
            self._failures.update(pending)  # written with the next flush
            raise

    async def counter_values(self) -> dict[str, int]:
        await self.flush_counters()
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
        await self._misses.submit(
            {
                "conversation_id": conversation_id,
                "channel": channel,
                "text": text[:200],
                "at": utcnow(),
            }
        )

    async def _insert_misses(self, docs: Sequence[Document]) -> list[None]:
        await self.misses.insert_many(list(docs), ordered=False)
        return [None] * len(docs)
