"""The knowledge base collection: entries loaded from files at start and edited by API.

Entries from files are refreshed from their file at every start; an entry edited through
the API becomes ``source: api`` and is never overwritten or removed by a file again.
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from hub.domain import KnowledgeEntry, utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore


class EntryExists(ValueError):
    """An entry with that id is already stored."""


def entry_from_doc(doc: Document) -> KnowledgeEntry:
    fields = {k: v for k, v in doc.items() if k in KnowledgeEntry.model_fields}
    return KnowledgeEntry.model_validate({**fields, "id": doc["_id"]})


def entry_to_doc(entry: KnowledgeEntry) -> Document:
    doc = entry.model_dump(exclude={"id"})
    doc["_id"] = entry.id
    doc["updated_at"] = utcnow()
    return doc


class KnowledgeStore(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.kb = mongo.collection("kb")

    async def sync_files(self, entries: list[KnowledgeEntry]) -> int:
        """Upsert file entries (skipping ids the API owns); drop file entries now gone."""
        written = 0
        for entry in entries:
            doc = entry_to_doc(entry.model_copy(update={"source": "file"}))
            try:
                await self.kb.replace_one({"_id": entry.id, "source": "file"}, doc, upsert=True)
                written += 1
            except DuplicateKeyError:
                continue  # edited through the API: the stored version wins
        await self.kb.delete_many(
            {"source": "file", "_id": {"$nin": [entry.id for entry in entries]}}
        )
        return written

    async def all(self) -> list[KnowledgeEntry]:
        return [entry_from_doc(doc) async for doc in self.kb.find({}).sort("_id", 1)]

    async def get(self, entry_id: str) -> KnowledgeEntry | None:
        doc = await self.kb.find_one({"_id": entry_id})
        return entry_from_doc(doc) if doc else None

    async def create(self, entry: KnowledgeEntry) -> KnowledgeEntry:
        stored = entry.model_copy(update={"source": "api"})
        try:
            await self.kb.insert_one(entry_to_doc(stored))
        except DuplicateKeyError as exc:
            raise EntryExists(entry.id) from exc
        return stored

    async def replace(self, entry: KnowledgeEntry) -> KnowledgeEntry | None:
        stored = entry.model_copy(update={"source": "api"})
        result = await self.kb.replace_one({"_id": entry.id}, entry_to_doc(stored))
        return stored if result.matched_count else None

    async def delete(self, entry_id: str) -> bool:
        result = await self.kb.delete_one({"_id": entry_id})
        return result.deleted_count == 1
