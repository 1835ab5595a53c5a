"""Comments, their moderation decisions and reviews, and the stored moderation rules.

A comment document keeps the text as it may be published (already redacted), who sent
it (a pseudonymous author key and a hash of the client address), the pipeline's decision
with every stage's verdict and the rules version, and the trail of human reviews.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore
from storage.paging import NewestFirst, by_id
from storage.webhook_journal import COMMENT_EVENTS, owed, with_owed

RULES_POINTER = "current"


class CommentStore(StorageBoundary):
    """Reads and writes of ``comments`` and ``moderation_rules``."""

    def __init__(self, mongo: MongoStore) -> None:
        self.comments = mongo.collection("comments")
        self.rules = mongo.collection("moderation_rules")
        self._published = NewestFirst(self.comments, "published_at")

    async def insert(self, doc: Document) -> tuple[Document, bool]:
        """Store a comment; a social post seen before returns the stored one, ``True``."""
        try:
            await self.comments.insert_one(doc)
        except DuplicateKeyError:
            external = doc.get("external") or {}
            existing = await self.comments.find_one(
                {
                    "external.channel": external.get("channel"),
                    "external.message_id": external.get("message_id"),
                }
            )
            if existing is None:
                raise
            return existing, True
        return doc, False

    async def get(self, comment_id: str) -> Document | None:
        return await self.comments.find_one({"_id": comment_id})

    # -- what the pipeline asks ----------------------------------------------------------
    async def similar(
        self, digest: str, bands: list[int], since: datetime, limit: int
    ) -> list[Document]:
        """Recent comments with the same digest, then those sharing a band key, newest first."""
        projection = {"author.key": 1, "digest": 1, "sketch": 1, "created_at": 1}
        recent = {"created_at": {"$gte": since}}
        exact = (
            await self.comments.find({"digest": digest, **recent}, projection)
            .sort("created_at", -1)
            .limit(limit)
            .to_list()
        )
        if len(exact) >= limit:
            return exact
        query: Document = {"bands": {"$in": bands}, "digest": {"$ne": digest}, **recent}
        near = (
            await self.comments.find(query, projection)
            .sort("created_at", -1)
            .limit(limit - len(exact))
            .to_list()
        )
        return exact + near

    async def count_since(
        self, *, author_key: str | None, address_hash: str | None, since: datetime
    ) -> int:
        query: Document = {"created_at": {"$gte": since}}
        if author_key is not None:
            query["author.key"] = author_key
        if address_hash is not None:
            query["address_hash"] = address_hash
        return await self.comments.count_documents(query)

    async def count_for_trust(self, trust_key: str, status: str, cap: int) -> int:
        """Comments under ``trust_key`` with ``status``; approvals count only when a person
        approved (a review), since automatic ones must not earn trust."""
        query: Document = {"author.trust_key": trust_key, "status": status}
        if status == "approved":
            query["reviews.action"] = "approve"
        return await self.comments.count_documents(query, limit=cap)

    # -- lists -------------------------------------------------------------------------
    async def list_published(
        self, target: str | None, limit: int, cursor: str | None
    ) -> tuple[list[Document], str | None]:
        """Approved comments, most recently published first."""
        query: Document = {"status": "approved", "target": target}
        return await self._published.page(query, limit, cursor)

    async def list_by_id(
        self, filters: Mapping[str, Any], limit: int, cursor: str | None, *, oldest_first: bool
    ) -> tuple[list[Document], str | None]:
        """Comments matching ``filters`` in id (arrival) order."""
        return await by_id(self.comments, filters, limit, cursor, descending=not oldest_first)

    # -- reviews -----------------------------------------------------------------------
    async def review(
        self, comment_id: str, status: str, review: Document, now: datetime
    ) -> Document | None:
        """Move a comment to ``status`` and append ``review`` to its trail; ``None`` when it
        does not exist or already has that status. The same write owes the decision's
        webhook event (storage/webhook_journal.py)."""
        update: Document = {
            "$set": {"status": status, "updated_at": now},
            "$push": {"reviews": review},
        }
        if status == "approved":
            update["$set"]["published_at"] = now
        else:
            update["$unset"] = {"published_at": ""}
        return await self.comments.find_one_and_update(
            {"_id": comment_id, "status": {"$ne": status}},
            with_owed(update, [owed(COMMENT_EVENTS[status])]),
            return_document=ReturnDocument.AFTER,
        )

    # -- rules -------------------------------------------------------------------------
    async def save_rules(self, version: str, rules: Document, by: str, now: datetime) -> None:
        await self.rules.update_one(
            {"_id": version},
            {"$setOnInsert": {"rules": rules, "created_by": by, "created_at": now}},
            upsert=True,
        )
        await self.rules.update_one(
            {"_id": RULES_POINTER},
            {"$set": {"version": version, "updated_by": by, "updated_at": now}},
            upsert=True,
        )

    async def current_rules_version(self) -> str | None:
        pointer = await self.rules.find_one({"_id": RULES_POINTER})
        return str(pointer["version"]) if pointer else None

    async def load_rules(self, version: str) -> Document | None:
        return await self.rules.find_one({"_id": version})

    async def rule_versions(self, limit: int) -> list[Document]:
        """Stored rule versions, newest first, without their rules (a handful per year)."""
        cursor = self.rules.find(
            {"_id": {"$ne": RULES_POINTER}}, {"created_by": 1, "created_at": 1}
        ).sort("created_at", -1)
        return (await cursor.to_list())[:limit]
