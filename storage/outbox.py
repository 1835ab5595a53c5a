"""The outbox: outbound messages waiting for delivery live in ``messages`` as ``pending``.

A sender claims due messages with a lease, so several hub instances never send the same
message at once and a crashed sender's claim expires and is taken up again. Claims and
outcomes are written in batches: a pass costs the same few commands for one message or 32.
The same lease queue serves any collection whose documents carry a ``delivery`` of this
shape (the outbound webhooks' ``webhook_deliveries``): ``claim_due_documents`` hands out
the raw documents.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import UpdateOne

from hub.domain import Message, new_id, utcnow
from storage.errors import StorageBoundary
from storage.message_docs import message_from_doc
from storage.mongo import Document, MongoStore


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claim pass: the messages now leased to the caller, and when the next is due."""

    messages: list[Message]
    next_due_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A delivery attempt's result, to be written with others in one bulk update."""

    message_id: str
    fields: Document


class OutboxStore(StorageBoundary):
    def __init__(
        self, mongo: MongoStore, collection: str = "messages", group_field: str = "channel"
    ) -> None:
        self.messages = mongo.collection(collection)
        # What a sender limits in-flight work by: a message's channel, a webhook's endpoint.
        self.group_field = group_field

    async def claim_due(self, lease_seconds: float, limit: int) -> list[Message]:
        return (await self.claim_batch(lease_seconds, limit)).messages

    async def claim_batch(
        self, lease_seconds: float, limit: int, skip_channels: Collection[str] = ()
    ) -> Claimed:
        """Claim up to ``limit`` due messages (none of ``skip_channels``) in two commands."""
        candidates, next_due = await self._due_ids(limit, skip_channels)
        claimed = await self.claim_ids(candidates, lease_seconds)
        return Claimed(claimed, next_due)

    async def claim_due_documents(
        self, lease_seconds: float, limit: int, skip_groups: Collection[str] = ()
    ) -> list[Document]:
        """Lease up to ``limit`` due documents (their ``delivery.attempts`` counted up), none
        of whose group (``group_field``) is in ``skip_groups``."""
        candidates, _ = await self._due_ids(limit, skip_groups)
        return await self.claim_id_documents(candidates, lease_seconds)

    async def _due_ids(
        self, limit: int, skip_channels: Collection[str] = ()
    ) -> tuple[list[str], datetime | None]:
        """Up to ``limit`` ids due and free now, and when the next one is due.

        Candidates come from the outbox index alone (pending, soonest first); they are then
        claimed together by id with the full condition, so two senders never take the same
        one. One query with the due and lease conditions is a collection scan on some
        MongoDB-wire servers, run on every poll over every message ever stored.
        """
        now = utcnow()
        cursor = (
            self.messages.find(
                {"delivery.status": "pending"},
                projection={
                    self.group_field: 1,
                    "delivery.next_attempt_at": 1,
                    "delivery.lease_until": 1,
                },
            )
            .sort([("delivery.next_attempt_at", 1)])
            .limit(limit * 4)
        )
        candidates: list[str] = []
        next_due: datetime | None = None
        async for doc in cursor:
            delivery = doc.get("delivery") or {}
            due, lease = delivery.get("next_attempt_at"), delivery.get("lease_until")
            if due is None or due > now:
                next_due = due
                break  # soonest first: nothing after this is due either
            if (lease is None or lease <= now) and doc.get(self.group_field) not in skip_channels:
                candidates.append(doc["_id"])
        if len(candidates) > limit:
            next_due = now
        return candidates[:limit], next_due

    async def claim_ids(self, message_ids: Sequence[str], lease_seconds: float) -> list[Message]:
        return [
            message_from_doc(doc)
            for doc in await self.claim_id_documents(message_ids, lease_seconds)
        ]

    async def claim_id_documents(
        self, message_ids: Sequence[str], lease_seconds: float
    ) -> list[Document]:
        """Lease those of ``message_ids`` that are due and free: one update, one read.

        A claim moves the document's next attempt to the lease's end: should this sender
        die, that is when another takes it up, and meanwhile it does not sit at the head of
        the due order, in front of other channels' messages.
        """
        if not message_ids:
            return []
        now = utcnow()
        lease_until = now + timedelta(seconds=lease_seconds)
        token = new_id()
        await self.messages.update_many(
            {
                "_id": {"$in": list(message_ids)},
                "delivery.status": "pending",
                "delivery.next_attempt_at": {"$lte": now},
                "delivery.lease_until": {"$not": {"$gt": now}},
            },
            {
                "$set": {
                    "delivery.lease_until": lease_until,
                    "delivery.next_attempt_at": lease_until,
                    "delivery.lease_id": token,
                },
                "$inc": {"delivery.attempts": 1},
            },
        )
        # Only the documents this update leased carry its token (another sender's claim
        # of the same id meanwhile carries that sender's).
        docs: list[Document] = await self.messages.find(
            {"_id": {"$in": list(message_ids)}, "delivery.lease_id": token}
        ).to_list()
        order = {message_id: n for n, message_id in enumerate(message_ids)}
        docs.sort(key=lambda doc: order[doc["_id"]])
        return docs

    async def complete(self, outcomes: Sequence[Outcome]) -> list[None]:
        """Write several attempts' outcomes in one command (``sent``, retry or ``failed``)."""
        now = utcnow()
        await self.messages.bulk_write(
            [
                UpdateOne(
                    {"_id": o.message_id},
                    {
                        "$set": {
                            **o.fields,
                            "delivery.lease_until": None,
                            "delivery.updated_at": now,
                        }
                    },
                )
                for o in outcomes
            ],
            ordered=False,
        )
        return [None] * len(outcomes)

    @staticmethod
    def sent(message_id: str, platform_id: str | None) -> Outcome:
        return Outcome(
            message_id,
            {
                "delivery.status": "sent",
                "delivery.platform_id": platform_id,
                "delivery.reason": None,
                "delivery.next_attempt_at": None,
            },
        )

    @staticmethod
    def retry(message_id: str, at: datetime, reason: str | None) -> Outcome:
        return Outcome(message_id, {"delivery.next_attempt_at": at, "delivery.reason": reason})

    @staticmethod
    def failed(message_id: str, reason: str) -> Outcome:
        return Outcome(
            message_id,
            {
                "delivery.status": "failed",
                "delivery.reason": reason,
                "delivery.next_attempt_at": None,
            },
        )

    async def mark_sent(self, message_id: str, platform_id: str | None) -> None:
        await self.complete([self.sent(message_id, platform_id)])

    async def mark_retry(self, message_id: str, at: datetime, reason: str | None) -> None:
        await self.complete([self.retry(message_id, at, reason)])

    async def mark_failed(self, message_id: str, reason: str) -> None:
        await self.complete([self.failed(message_id, reason)])

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
