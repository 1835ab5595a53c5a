"""The audit log: who did what to which object, when, in which request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import DESCENDING

from hub.domain import utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore


def entry_view(doc: Document) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k != "_id"}
    out["id"] = str(doc["_id"])
    out["at"] = doc["at"].isoformat()
    return out


class AuditLog(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.entries = mongo.collection("audit_log")

    async def record(
        self,
        *,
        who: str,
        role: str,
        action: str,
        target: dict[str, str],
        status: int,
        request_id: str,
    ) -> None:
        await self.entries.insert_one(
            {
                "who": who,
                "role": role,
                "action": action,
                "target": target,
                "status": status,
                "request_id": request_id,
                "at": utcnow(),
            }
        )

    async def query(
        self,
        *,
        who: str | None,
        action: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> list[Document]:
        query: Document = {}
        if who is not None:
            query["who"] = who
        if action is not None:
            query["action"] = action
        span: Document = {}
        if since is not None:
            span["$gte"] = since
        if until is not None:
            span["$lt"] = until
        if span:
            query["at"] = span
        return await self.entries.find(query).sort("at", DESCENDING).limit(limit).to_list()
