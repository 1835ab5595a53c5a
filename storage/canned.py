"""Canned responses: saved replies agents reuse, with ``{{contact.name}}``-style placeholders."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from hub.domain import new_id, utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore


class ShortcutTaken(ValueError):
    """Another canned response already uses that shortcut."""


def _public(doc: Document) -> Document:
    return {
        "id": doc["_id"],
        "shortcut": doc["shortcut"],
        "text": doc["text"],
        "created_by": doc.get("created_by"),
        "created_at": doc["created_at"].isoformat(),
    }


class CannedResponseStore(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.canned = mongo.collection("canned_responses")

    async def create(self, shortcut: str, text: str, created_by: str) -> Document:
        doc = {
            "_id": new_id(),
            "shortcut": shortcut,
            "text": text,
            "created_by": created_by,
            "created_at": utcnow(),
        }
        try:
            await self.canned.insert_one(doc)
        except DuplicateKeyError as exc:
            raise ShortcutTaken(shortcut) from exc
        return _public(doc)

    async def list(self) -> list[Document]:
        return [_public(doc) async for doc in self.canned.find({}).sort("shortcut", 1)]

    async def get(self, response_id: str) -> Document | None:
        doc = await self.canned.find_one({"_id": response_id})
        return _public(doc) if doc else None

    async def delete(self, response_id: str) -> bool:
        return (await self.canned.delete_one({"_id": response_id})).deleted_count == 1
