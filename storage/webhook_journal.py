"""Webhook events owed by the very write that made them happen.

A message, conversation or contact document carries the events its write owes in
``webhooks_owed`` (with ``webhooks_owed_at``, which a sparse index serves), set by the same
insert or update that changed the state: MongoDB applies one document's write atomically,
so there is no moment where the change is stored and its event is not. The webhook sender
turns owed entries into deliveries (deduplicated by event id) and only then pulls them, so
a hub killed anywhere in between owes them still and the next pass, in any instance,
delivers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import UpdateOne

from hub.domain import Author, Conversation, new_id, utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore

OWED = "webhooks_owed"
OWED_AT = "webhooks_owed_at"
# Bookkeeping, not data: the device sync feed neither sends nor hashes these fields.
BOOKKEEPING = (OWED, OWED_AT)
# A document never owes more than this many events (the oldest go first): with webhooks
# off nothing settles them, and a conversation's changes must not grow it without bound.
MAX_OWED = 100
JOURNALED = ("contacts", "conversations", "messages", "comments")
# A moderation decision's status and the event it owes.
COMMENT_EVENTS = {
    "approved": "comment.published",
    "held": "comment.held",
    "rejected": "comment.rejected",
}


def owed(event_type: str, event_id: str | None = None, **extra: Any) -> Document:
    """One owed event: its type, its stable id and what only the moment of writing knows."""
    return {"type": event_type, "id": event_id or f"evt_{new_id()}", "at": utcnow(), **extra}


def owing(entries: Sequence[Document]) -> Document:
    """The update part that records ``entries`` as owed, for an update's ``$push``/``$set``."""
    return {
        "$push": {OWED: {"$each": list(entries), "$slice": -MAX_OWED}},
        "$set": {OWED_AT: utcnow()},
    }


def born(event_type: str, event_id: str) -> Document:
    """Fields for an inserted document whose birth is an event."""
    return {OWED: [owed(event_type, event_id)], OWED_AT: utcnow()}


def with_owed(update: Document, entries: Sequence[Document]) -> Document:
    """``update`` that also records ``entries`` as owed (unchanged when there are none)."""
    if not entries:
        return update
    extra = owing(entries)
    merged = dict(update)
    merged["$set"] = {**update.get("$set", {}), **extra["$set"]}
    merged["$push"] = {**update.get("$push", {}), **extra["$push"]}
    return merged


def transition_owed(
    previous: Conversation,
    changes: Mapping[str, Any],
    actor: Author | None = None,
    reason: str | None = None,
) -> list[Document]:
    """The events a conversation change owes: a status change, a (re)assignment."""
    common: dict[str, Any] = {
        "actor": actor.model_dump(mode="json") if actor else None,
        "reason": reason,
    }
    entries = []
    status = changes.get("status", previous.status)
    if status != previous.status:
        handoff = previous.status == "bot" and status == "open"
        entries.append(
            owed(
                "conversation.status_changed",
                previous_status=previous.status,
                status=status,
                handoff=handoff,
                **common,
            )
        )
    assignee = changes.get("assignee", previous.assignee)
    if assignee is not None and assignee != previous.assignee:
        entries.append(
            owed(
                "conversation.assigned",
                assignee=assignee,
                previous_assignee=previous.assignee,
                **common,
            )
        )
    return entries


def is_bookkeeping(event: Mapping[str, Any]) -> bool:
    """A change-stream event of an update that touched only the owed-events fields."""
    if event.get("operationType") != "update":
        return False
    described = event.get("updateDescription") or {}
    fields = [*(described.get("updatedFields") or {}), *(described.get("removedFields") or [])]
    return bool(fields) and all(f.split(".", 1)[0] in BOOKKEEPING for f in fields)


def without_bookkeeping(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k not in BOOKKEEPING}


class WebhookJournal(StorageBoundary):
    """Reads and settles the owed events of the journaled collections."""

    def __init__(self, mongo: MongoStore) -> None:
        self.collections = {name: mongo.collection(name) for name in JOURNALED}

    async def owing(self, collection: str, limit: int) -> list[Document]:
        """Documents owing events, longest owed first; bounded (``$lt`` now)."""
        cursor = self.collections[collection].find(
            {OWED_AT: {"$lt": utcnow()}}, sort=[(OWED_AT, 1)], limit=limit
        )
        return await cursor.to_list()

    async def settle(self, doc: Document, collection: str) -> None:
        """Forget the entries of ``doc`` (as read), whose deliveries are stored."""
        await self.settle_many([doc], collection)

    async def settle_many(self, docs: Sequence[Document], collection: str) -> None:
        """Forget the entries of ``docs`` (as read), whose deliveries are stored: one bulk
        write unless some document owed more since; the marker goes when none is left."""
        if not docs:
            return
        target = self.collections[collection]
        read = [(doc["_id"], [entry["id"] for entry in doc.get(OWED) or []]) for doc in docs]
        unset = {"$unset": {OWED: "", OWED_AT: ""}}
        settled = []
        for doc_id, event_ids in read:
            # Entries are only ever appended: same count and same last id is the list read.
            unchanged: Document = {"_id": doc_id, OWED: {"$size": len(event_ids)}}
            if event_ids:
                unchanged[f"{OWED}.{len(event_ids) - 1}.id"] = event_ids[-1]
            settled.append(UpdateOne(unchanged, unset))
        done = await target.bulk_write(settled, ordered=False)
        if done.matched_count == len(settled):
            return
        # Some owe more since: pull what was read (nothing is left to pull from those
        # settled above) and drop the marker of those left with none, in that order.
        pulls: list[UpdateOne] = []
        for doc_id, event_ids in read:
            pulls.append(UpdateOne({"_id": doc_id}, {"$pull": {OWED: {"id": {"$in": event_ids}}}}))
            pulls.append(UpdateOne({"_id": doc_id, OWED: {"$size": 0}}, unset))
        await target.bulk_write(pulls, ordered=True)

    async def by_ids(self, collection: str, ids: Sequence[str]) -> dict[str, Document]:
        if not ids:
            return {}
        cursor = self.collections[collection].find({"_id": {"$in": list(set(ids))}})
        return {doc["_id"]: doc async for doc in cursor}
