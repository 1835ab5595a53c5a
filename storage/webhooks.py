"""Outbound webhooks: the endpoints admins register and the deliveries owed to them.

``webhook_endpoints`` holds each endpoint with its signing secret. ``webhook_deliveries``
holds one document per (event, endpoint), keyed ``event_id:endpoint_id`` so an event is
owed once per endpoint, with the exact body to sign and a ``delivery`` that the outbox's
lease queue (``OutboxStore`` on this collection) claims, retries and fails. A failed
delivery is a dead letter: it stays, is listed, and a replay makes it pending again.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo.errors import BulkWriteError

from hub.domain import WebhookEndpoint, new_id, utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore
from storage.outbox import OutboxStore

DELIVERIES = "webhook_deliveries"


def _endpoint(doc: Document) -> WebhookEndpoint:
    fields = {k: v for k, v in doc.items() if k in WebhookEndpoint.model_fields}
    return WebhookEndpoint.model_validate({**fields, "id": doc["_id"]})


def _pending(now: datetime) -> Document:
    return {"status": "pending", "attempts": 0, "next_attempt_at": now, "lease_until": None}


class WebhookStore(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.endpoints = mongo.collection("webhook_endpoints")
        self.deliveries = mongo.collection(DELIVERIES)
        self.queue = OutboxStore(mongo, DELIVERIES, group_field="endpoint_id")

    # -- endpoints ------------------------------------------------------------------
    async def create(
        self, url: str, events: Sequence[str], active: bool, description: str
    ) -> WebhookEndpoint:
        doc: Document = {
            "_id": new_id(),
            "url": url,
            "events": list(events),
            "secret": "whsec_" + secrets.token_urlsafe(32),
            "active": active,
            "flagged": False,
            "description": description,
            "failing_since": None,
            "created_at": utcnow(),
        }
        await self.endpoints.insert_one(doc)
        return _endpoint(doc)

    async def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        doc = await self.endpoints.find_one({"_id": endpoint_id})
        return _endpoint(doc) if doc else None

    async def all(self, limit: int = 200) -> list[WebhookEndpoint]:
        cursor = self.endpoints.find({}, sort=[("_id", 1)], limit=limit)
        return [_endpoint(doc) async for doc in cursor]

    async def update(self, endpoint_id: str, changes: Mapping[str, Any]) -> WebhookEndpoint | None:
        """Apply an admin's change; making an endpoint active again clears the hub's flag."""
        fields = dict(changes)
        if fields.get("active") is True:
            fields |= {"flagged": False, "failing_since": None}
        doc = await self.endpoints.find_one_and_update(
            {"_id": endpoint_id}, {"$set": fields}, return_document=True
        )
        return _endpoint(doc) if doc else None

    async def delete(self, endpoint_id: str) -> bool:
        result = await self.endpoints.delete_one({"_id": endpoint_id})
        return result.deleted_count == 1

    async def note_failure(self, endpoint_id: str, now: datetime) -> datetime | None:
        """Record that the endpoint is failing; when it started failing (None if deleted)."""
        await self.endpoints.update_one(
            {"_id": endpoint_id, "failing_since": None}, {"$set": {"failing_since": now}}
        )
        doc = await self.endpoints.find_one({"_id": endpoint_id}, {"failing_since": 1})
        return doc.get("failing_since") if doc else None

    async def note_success(self, endpoint_id: str) -> None:
        await self.endpoints.update_one(
            {"_id": endpoint_id, "failing_since": {"$ne": None}}, {"$set": {"failing_since": None}}
        )

    async def pause_failing(self, endpoint_id: str) -> None:
        await self.endpoints.update_one(
            {"_id": endpoint_id}, {"$set": {"active": False, "flagged": True}}
        )

    async def active_endpoints(self) -> list[WebhookEndpoint]:
        """Every active endpoint: read once per sender pass, so a change made by any
        instance counts from the next pass on (no cache to invalidate)."""
        cursor = self.endpoints.find({"active": True}, limit=200)
        return [_endpoint(doc) async for doc in cursor]

    # -- deliveries -----------------------------------------------------------------
    async def enqueue(
        self, event_id: str, event_type: str, body: str, endpoint_ids: Sequence[str]
    ) -> int:
        """Owe the event to each endpoint; an event already owed is not owed twice."""
        now = utcnow()
        docs = [
            {
                "_id": f"{event_id}:{endpoint_id}",
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "event_type": event_type,
                "body": body,
                "created_at": now,
                "retry_from": now,
                "delivery": _pending(now),
            }
            for endpoint_id in endpoint_ids
        ]
        if not docs:
            return 0
        try:
            result = await self.deliveries.insert_many(docs, ordered=False)
        except BulkWriteError as exc:  # duplicates: the event was already enqueued
            return int(exc.details.get("nInserted", 0))
        return len(result.inserted_ids)

    async def dead_letters(
        self,
        endpoint_id: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> list[Document]:
        query = self._dead_query(endpoint_id, since, until)
        cursor = self.deliveries.find(query, sort=[("created_at", 1), ("_id", 1)], limit=limit)
        return await cursor.to_list()

    async def replay(self, delivery_id: str) -> bool:
        """Make one dead letter pending again, with a fresh retry window."""
        return await self._replay({"_id": delivery_id, "delivery.status": "failed"}) == 1

    async def replay_range(
        self, endpoint_id: str | None, since: datetime | None, until: datetime | None
    ) -> int:
        return await self._replay(self._dead_query(endpoint_id, since, until))

    async def _replay(self, query: Document) -> int:
        now = utcnow()
        result = await self.deliveries.update_many(
            query, {"$set": {"delivery": _pending(now), "retry_from": now}}
        )
        return result.modified_count

    @staticmethod
    def _dead_query(
        endpoint_id: str | None, since: datetime | None, until: datetime | None
    ) -> Document:
        query: Document = {"delivery.status": "failed"}
        span: Document = {}
        if since is not None:
            span["$gte"] = since
        if until is not None:
            span["$lt"] = until  # exclusive: an inclusive bound can drop the boundary
        if span:
            query["created_at"] = span
        if endpoint_id is not None:
            query["endpoint_id"] = endpoint_id
        return query

    async def dead_letter_count(self) -> int:
        return await self.deliveries.count_documents({"delivery.status": "failed"})

    async def oldest_pending_at(self) -> datetime | None:
        doc = await self.deliveries.find_one(
            {"delivery.status": "pending"}, sort=[("created_at", 1)], projection={"created_at": 1}
        )
        return doc["created_at"] if doc else None
