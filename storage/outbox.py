"""The outbox: outbound messages waiting for delivery live in ``messages`` as ``pending``.

A sender claims a due message with a lease, so several hub instances never send the same
message at once and a crashed sender's claim expires and is taken up again. The same lease
queue serves any collection whose documents carry a ``delivery`` of this shape (the outbound
webhooks' ``webhook_deliveries``): ``claim_due_documents`` hands out the raw documents.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo import ReturnDocument

from hub.domain import Message, utcnow
from storage.message_docs import message_from_doc
from storage.mongo import Document, MongoStore


class OutboxStore:
    def __init__(self, mongo: MongoStore, collection: str = "messages") -> None:
        self.messages = mongo.collection(collection)

    async def claim_due(self, lease_seconds: float, limit: int) -> list[Message]:
        return [
            message_from_doc(doc) for doc in await self.claim_due_documents(lease_seconds, limit)
        ]

    async def claim_due_documents(self, lease_seconds: float, limit: int) -> list[Document]:
        """Lease up to ``limit`` due documents (their ``delivery.attempts`` counted up)."""
        now = utcnow()
        # Candidates come from the outbox index alone (pending, soonest first); each is then
        # claimed by id with the full condition, so two senders never take the same one.
        # One query with the due and lease conditions is a collection scan on some
        # MongoDB-wire servers, run on every poll over every message ever stored.
        cursor = (
            self.messages.find(
                {"delivery.status": "pending"},
                projection={"delivery.next_attempt_at": 1, "delivery.lease_until": 1},
            )
            .sort([("delivery.next_attempt_at", 1)])
            .limit(limit * 4)
        )
        candidates = []
        async for doc in cursor:
            delivery = doc.get("delivery") or {}
            due, lease = delivery.get("next_attempt_at"), delivery.get("lease_until")
            if due is None or due > now:
                break  # soonest first: nothing after this is due either
            if lease is None or lease <= now:
                candidates.append(doc["_id"])
        claimed: list[Document] = []
        for message_id in candidates[:limit]:
            claim = await self.messages.find_one_and_update(
                {
                    "_id": message_id,
                    "delivery.status": "pending",
                    "delivery.next_attempt_at": {"$lte": now},
                    "$or": [
                        {"delivery.lease_until": None},
                        {"delivery.lease_until": {"$lte": now}},
                    ],
                },
                {
                    "$set": {"delivery.lease_until": now + timedelta(seconds=lease_seconds)},
                    "$inc": {"delivery.attempts": 1},
                },
                return_document=ReturnDocument.AFTER,
            )
            if claim is not None:  # else another sender took it meanwhile
                claimed.append(claim)
        return claimed

    async def mark_sent(self, message_id: str, platform_id: str | None) -> None:
        await self.messages.update_one(
            {"_id": message_id},
            {
                "$set": {
                    "delivery.status": "sent",
                    "delivery.platform_id": platform_id,
                    "delivery.reason": None,
                    "delivery.lease_until": None,
                    "delivery.next_attempt_at": None,
                    "delivery.updated_at": utcnow(),
                }
            },
        )

    async def mark_retry(self, message_id: str, at: datetime, reason: str | None) -> None:
        await self.messages.update_one(
            {"_id": message_id},
            {
                "$set": {
                    "delivery.next_attempt_at": at,
                    "delivery.lease_until": None,
                    "delivery.reason": reason,
                    "delivery.updated_at": utcnow(),
                }
            },
        )

    async def mark_failed(self, message_id: str, reason: str) -> None:
        await self.messages.update_one(
            {"_id": message_id},
            {
                "$set": {
                    "delivery.status": "failed",
                    "delivery.reason": reason,
                    "delivery.lease_until": None,
                    "delivery.next_attempt_at": None,
                    "delivery.updated_at": utcnow(),
                }
            },
        )

    async def next_due_at(self) -> datetime | None:
        doc = await self.messages.find_one(
            {"delivery.status": "pending"},
            sort=[("delivery.next_attempt_at", 1)],
            projection={"delivery.next_attempt_at": 1},
        )
        if doc is None:
            return None
        due: datetime | None = doc["delivery"].get("next_attempt_at")
        return due

    async def pending_count(self) -> int:
        return await self.messages.count_documents({"delivery.status": "pending"})
