"""Legal holds: a contact or conversation kept as it is, whatever retention says.

A hold is one document per target (``_id`` is ``"contact:ID"`` or ``"conversation:ID"``)
with who placed it, why and when; lifting deletes it. The audit log keeps the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pymongo.errors import DuplicateKeyError

from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore

HoldKind = Literal["contact", "conversation"]
HOLD_KINDS: tuple[HoldKind, ...] = ("contact", "conversation")


def hold_id(kind: str, target: str) -> str:
    return f"{kind}:{target}"


class LegalHoldStore(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.holds = mongo.collection("legal_holds")
        self.contacts = mongo.collection("contacts")
        self.conversations = mongo.collection("conversations")
        self.catalog = mongo.collection("archive_catalog")

    async def target_exists(self, kind: HoldKind, target: str) -> bool:
        """A contact, or a conversation in MongoDB or the archive."""
        if kind == "contact":
            return await self.contacts.find_one({"_id": target}, {"_id": 1}) is not None
        for collection in (self.conversations, self.catalog):
            if await collection.find_one({"_id": target}, {"_id": 1}) is not None:
                return True
        return False

    async def place(
        self, kind: HoldKind, target: str, *, by: str, reason: str, at: datetime
    ) -> tuple[Document, bool]:
        """Place a hold; (the hold, True) when it is new, (the existing one, False)."""
        doc = {
            "_id": hold_id(kind, target),
            "kind": kind,
            "target": target,
            "by": by,
            "reason": reason,
            "at": at,
        }
        try:
            await self.holds.insert_one(doc)
        except DuplicateKeyError:
            existing = await self.holds.find_one({"_id": doc["_id"]})
            return (existing or doc), False
        return doc, True

    async def lift(self, kind: HoldKind, target: str) -> Document | None:
        """Remove a hold; the hold that was lifted, or None when there was none."""
        return await self.holds.find_one_and_delete({"_id": hold_id(kind, target)})

    async def get(self, kind: HoldKind, target: str) -> Document | None:
        return await self.holds.find_one({"_id": hold_id(kind, target)})

    async def held(self, kind: HoldKind, targets: Iterable[str]) -> set[str]:
        """Those of ``targets`` under a hold."""
        ids = [hold_id(kind, t) for t in targets]
        if not ids:
            return set()
        return {str(d["target"]) async for d in self.holds.find({"_id": {"$in": ids}})}

    async def list(self, limit: int) -> list[Document]:
        return await self.holds.find({}).sort("at", -1).limit(limit).to_list()
