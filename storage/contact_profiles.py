"""A contact as the inbox's contact panel shows it: editable details, conversations, ratings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import DESCENDING, ReturnDocument

from hub.domain import Contact, Conversation
from storage.errors import StorageBoundary
from storage.inbox import contact_from_doc, conversation_from_doc
from storage.mongo import Document, MongoStore


class ContactProfiles(StorageBoundary):
    def __init__(self, mongo: MongoStore) -> None:
        self.contacts = mongo.collection("contacts")
        self.conversations = mongo.collection("conversations")
        self.ratings = mongo.collection("ratings")

    async def update(self, contact_id: str, changes: Mapping[str, Any]) -> Contact | None:
        """Set the given details (name, email, notes); None for an unknown contact."""
        doc = await self.contacts.find_one_and_update(
            {"_id": contact_id}, {"$set": dict(changes)}, return_document=ReturnDocument.AFTER
        )
        return contact_from_doc(doc) if doc else None

    async def conversations_of(self, contact_id: str, limit: int) -> list[Conversation]:
        """The contact's newest conversations (the ``contact`` index, newest id first)."""
        cursor = self.conversations.find(
            {"contact_id": contact_id}, sort=[("_id", DESCENDING)], limit=limit
        )
        return [conversation_from_doc(doc) async for doc in cursor]

    async def ratings_of(self, conversation_ids: Sequence[str]) -> dict[str, int]:
        """Customers' ratings of these conversations (a rating is keyed by its conversation)."""
        docs: list[Document] = await self.ratings.find(
            {"_id": {"$in": list(conversation_ids)}}, {"score": 1}
        ).to_list()
        return {doc["_id"]: int(doc["score"]) for doc in docs}
