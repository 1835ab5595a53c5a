"""Admin queries over the inbox: contacts listing and merging, and aggregate statistics.

Statistics are aggregation pipelines run in the database, so a month of messages is
summarised without being read into the hub.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.domain import Contact
from storage.errors import StorageBoundary
from storage.inbox import contact_from_doc, open_key
from storage.mongo import Document, MongoStore
from storage.paging import by_id
from storage.webhook_journal import owed, with_owed


class ContactsMergeError(Exception):
    """The two contacts cannot be merged (one is missing, or they are the same)."""


class ContactMissing(ContactsMergeError):
    """One of the two contacts does not exist."""


class Insights(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.contacts = mongo.collection("contacts")
        self.conversations = mongo.collection("conversations")
        self.messages = mongo.collection("messages")
        self.comments = mongo.collection("comments")

    async def list_contacts(
        self, *, channel: str | None, q: str | None, after: str | None, limit: int
    ) -> tuple[list[Contact], str | None]:
        query: Document = {}
        if channel is not None:
            query["identities.channel"] = channel
        if q is not None:
            pattern = {"$regex": re.escape(q), "$options": "i"}
            query["$or"] = [{"name": pattern}, {"email": pattern}]
        docs, next_cursor = await by_id(self.contacts, query, limit, after)
        return [contact_from_doc(doc) for doc in docs], next_cursor

    async def merge_contacts(self, keep_id: str, other_id: str) -> Contact:
        """Fold ``other`` into ``keep``: its identities, conversations and messages."""
        if keep_id == other_id:
            raise ContactsMergeError("a contact cannot be merged into itself")
        keep = await self.contacts.find_one({"_id": keep_id})
        other = await self.contacts.find_one({"_id": other_id})
        if keep is None or other is None:
            missing = keep_id if keep is None else other_id
            raise ContactMissing(f"contact {missing} not found")
        await self.messages.update_many({"contact_id": other_id}, {"$set": {"contact_id": keep_id}})
        async for conv in self.conversations.find({"contact_id": other_id}):
            changes: Document = {"contact_id": keep_id}
            if conv.get("open_key"):
                changes["open_key"] = open_key(keep_id, conv["channel"], conv["thread_key"])
            try:
                await self.conversations.update_one({"_id": conv["_id"]}, {"$set": changes})
            except DuplicateKeyError:  # keep has its own open thread there: leave this one be
                await self.conversations.update_one(
                    {"_id": conv["_id"]}, {"$set": {"contact_id": keep_id}}
                )
        # The identity keys are unique: free them before keep takes them over.
        await self.contacts.delete_one({"_id": other_id})
        fill: Document = {}
        if not keep.get("email") and other.get("email"):
            fill["email"] = other["email"]
        if not keep.get("name") and other.get("name"):
            fill["name"] = other["name"]
        update: Document = {
            "$addToSet": {
                "identities": {"$each": other.get("identities", [])},
                "identity_keys": {"$each": other.get("identity_keys", [])},
            }
        }
        if fill:
            update["$set"] = fill
        # The merge's last write owes its webhook event (storage/webhook_journal.py).
        merged_event = owed("contact.merged", merged_contact_id=other_id)
        await self.contacts.update_one({"_id": keep_id}, with_owed(update, [merged_event]))
        merged = await self.contacts.find_one({"_id": keep_id})
        assert merged is not None
        return contact_from_doc(merged)

    async def volumes(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        pipeline: list[Document] = [
            {"$match": {"created_at": {"$gte": since, "$lt": until}}},
            {
                "$group": {
                    "_id": {
                        "channel": "$channel",
                        "day": {"$dateToString": {"format": "%Y-%m-%d", "date": "$created_at"}},
                        "direction": "$direction",
                    },
                    "count": {"$sum": 1},
                }
            },
            {"$sort": {"_id.day": 1, "_id.channel": 1, "_id.direction": 1}},
        ]
        rows = await (await self.messages.aggregate(pipeline)).to_list()
        return [{**row["_id"], "count": row["count"]} for row in rows]

    async def first_response(self, since: datetime, until: datetime) -> dict[str, Any]:
        """Seconds from a conversation's first inbound message to the first public reply."""
        pipeline: list[Document] = [
            {"$match": {"created_at": {"$gte": since, "$lt": until}, "private": {"$ne": True}}},
            {
                "$group": {
                    "_id": "$conversation_id",
                    "first_in": {"$min": _when("inbound")},
                    "first_out": {"$min": _when("outbound")},
                }
            },
            {"$match": {"first_in": {"$ne": None}, "first_out": {"$ne": None}}},
            {"$project": {"wait": {"$subtract": ["$first_out", "$first_in"]}}},
            {"$match": {"wait": {"$gte": 0}}},
            {
                "$group": {
                    "_id": None,
                    "n": {"$sum": 1},
                    "mean": {"$avg": "$wait"},
                    "max": {"$max": "$wait"},
                }
            },
        ]
        return await self._summary(self.messages, pipeline)

    async def resolution(self, since: datetime, until: datetime) -> dict[str, Any]:
        """Seconds from a conversation's start to its resolution (resolved ones only)."""
        pipeline: list[Document] = [
            {"$match": {"status": "resolved", "updated_at": {"$gte": since, "$lt": until}}},
            {"$project": {"wait": {"$subtract": ["$updated_at", "$created_at"]}}},
            {
                "$group": {
                    "_id": None,
                    "n": {"$sum": 1},
                    "mean": {"$avg": "$wait"},
                    "max": {"$max": "$wait"},
                }
            },
        ]
        return await self._summary(self.conversations, pipeline)

    async def moderation_outcomes(self, since: datetime, until: datetime) -> dict[str, int]:
        pipeline: list[Document] = [
            {"$match": {"created_at": {"$gte": since, "$lt": until}}},
            {"$group": {"_id": "$status", "count": {"$sum": 1}}},
        ]
        rows = await (await self.comments.aggregate(pipeline)).to_list()
        return {str(row["_id"]): row["count"] for row in rows}

    @staticmethod
    async def _summary(collection: Any, pipeline: list[Document]) -> dict[str, Any]:
        rows = await (await collection.aggregate(pipeline)).to_list()
        if not rows:
            return {"count": 0, "mean_seconds": None, "max_seconds": None}
        row = rows[0]
        return {
            "count": row["n"],
            "mean_seconds": round(row["mean"] / 1000, 3),
            "max_seconds": round(row["max"] / 1000, 3),
        }


_SUMMARY: Document = {
    "$group": {"_id": None, "n": {"$sum": 1}, "mean": {"$avg": "$wait"}, "max": {"$max": "$wait"}}
}


def _when(direction: str) -> Document:
    return {"$cond": [{"$eq": ["$direction", direction]}, "$created_at", None]}
