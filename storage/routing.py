"""Routing's records: every conversation transition, the waiting queue and agents' load."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument

from hub.domain import Conversation, new_id, utcnow
from storage.errors import StorageBoundary
from storage.group_commit import GroupCommit
from storage.inbox import conversation_from_doc
from storage.mongo import Document, MongoStore
from storage.webhook_journal import with_owed


class RoutingStore(StorageBoundary):
    """Transitions (collection ``conversation_events``) and queue queries over conversations."""

    def __init__(self, mongo: MongoStore) -> None:
        self.events = mongo.collection("conversation_events")
        self.conversations = mongo.collection("conversations")
        self.messages = mongo.collection("messages")
        self.state = mongo.collection("routing_state")
        # Transitions of concurrent conversations (a burst of newcomers) share one insert.
        self._records: GroupCommit[Document, None] = GroupCommit(
            self._insert_transitions, name="transitions"
        )

    async def close(self) -> None:
        """Stop the transition writer (callers still waiting learn nothing was written)."""
        await self._records.close()

    async def _insert_transitions(self, docs: Sequence[Document]) -> list[None]:
        await self.events.insert_many(list(docs), ordered=False)
        return [None] * len(docs)

    async def record_transition(
        self,
        conversation_id: str,
        from_stage: str | None,
        to_stage: str,
        *,
        actor: str,
        reason: str | None,
        assignee: str | None = None,
        at: datetime | None = None,
    ) -> Document:
        doc: Document = {
            "_id": new_id(),
            "conversation_id": conversation_id,
            "from": from_stage,
            "to": to_stage,
            "actor": actor,
            "reason": reason,
            "assignee": assignee,
            "at": at or utcnow(),
        }
        await self._records.submit(doc)
        return doc

    async def transitions(self, conversation_id: str) -> list[Document]:
        cursor = self.events.find({"conversation_id": conversation_id}).sort(
            [("at", ASCENDING), ("_id", ASCENDING)]
        )
        return [doc async for doc in cursor]

    async def transitions_since(self, since: datetime, limit: int) -> list[Document]:
        cursor = self.events.find({"at": {"$gte": since}}).sort("at", ASCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def waiting(self, limit: int) -> list[tuple[Conversation, datetime | None]]:
        """Unassigned conversations waiting for an agent: highest priority, then oldest first."""
        cursor = (
            self.conversations.find({"status": "open", "assignee": None})
            .sort([("priority", DESCENDING), ("waiting_since", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [(conversation_from_doc(doc), doc.get("waiting_since")) async for doc in cursor]

    async def loads(self) -> Counter[str]:
        """How many active (open or pending) conversations each agent holds."""
        counts: Counter[str] = Counter()
        cursor = await self.conversations.aggregate(
            [
                {"$match": {"status": {"$in": ["open", "pending"]}, "assignee": {"$ne": None}}},
                {"$group": {"_id": "$assignee", "n": {"$sum": 1}}},
            ]
        )
        async for doc in cursor:
            counts[doc["_id"]] = doc["n"]
        return counts

    async def last_assigned(self) -> str | None:
        doc = await self.state.find_one({"_id": "round_robin"})
        return doc["last"] if doc else None

    async def remember_assigned(self, agent_id: str) -> None:
        await self.state.find_one_and_update(
            {"_id": "round_robin"},
            {"$set": {"last": agent_id, "at": utcnow()}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )

    async def assign_if_waiting(
        self, conversation_id: str, agent_id: str, events: Sequence[Document] = ()
    ) -> Conversation | None:
        """Assign only if the conversation still waits unassigned (a claim always wins);
        the same write owes ``events`` (storage/webhook_journal.py)."""
        doc = await self.conversations.find_one_and_update(
            {"_id": conversation_id, "status": "open", "assignee": None},
            with_owed({"$set": {"assignee": agent_id, "updated_at": utcnow()}}, events),
            return_document=ReturnDocument.AFTER,
        )
        return conversation_from_doc(doc) if doc else None

    async def history_of(self, conversation_ids: list[str]) -> list[Document]:
        cursor = self.events.find({"conversation_id": {"$in": conversation_ids}}).sort(
            [("at", ASCENDING), ("_id", ASCENDING)]
        )
        return [doc async for doc in cursor]

    async def first_message_times(
        self, conversation_ids: list[str]
    ) -> dict[str, dict[str, datetime]]:
        """Per conversation, when the contact, the bot and an agent first wrote (non-private)."""
        pipeline: list[Document] = [
            {"$match": {"conversation_id": {"$in": conversation_ids}, "private": False}},
            {
                "$group": {
                    "_id": {"c": "$conversation_id", "k": "$author.kind"},
                    "first": {"$min": "$created_at"},
                }
            },
        ]
        times: dict[str, dict[str, datetime]] = {}
        async for row in await self.messages.aggregate(pipeline):
            times.setdefault(row["_id"]["c"], {})[row["_id"]["k"]] = row["first"]
        return times
