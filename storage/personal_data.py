"""Where a contact's personal data lives in MongoDB: read it page by page, erase it.

Every read is a bounded range on an index (SecantusDB reads every match before applying
a limit): conversations by ``(contact_id, _id)`` a page at a time, messages by
``(conversation_id, seq)`` in seq windows, comments by ``author.key`` one key at a time.

Erasure leaves *tombstones*: the documents stay, with their ids, times, statuses and
counts, so statistics and the audit log stay true, while every field that says who the
person is or what they wrote is removed. A tombstone carries ``erased: {at}``; the device
change feed reports such a document as deleted (``storage.changes``).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo import ReplaceOne

from hub.domain import utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore

PAGE = 500
ERASED_TEXT = ""


def comment_author_keys(contact: Document) -> list[str]:
    """The keys comments by this contact are stored under: a platform identity
    (``channel:external_id``, social comments) or the email's pseudonym (web comments)."""
    keys = list(contact.get("identity_keys") or [])
    email = contact.get("email")
    if email:
        digest = hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass"))
        keys.append("email:" + digest.hexdigest()[:24])
    return keys


def scrubbed_contact(contact: Document, at: datetime) -> Document:
    """The contact's tombstone: its id and creation time, nothing that identifies anyone."""
    return {
        "_id": contact["_id"],
        "name": "",
        "email": None,
        "identities": [],
        # The unique identity index needs a key; this one matches no platform identity.
        "identity_keys": [f"erased:{contact['_id']}"],
        "created_at": contact.get("created_at", at),
        "erased": {"at": at},
    }


# What a tombstone keeps of the bot's session on a conversation: its counts. The last
# answer goes (an external bot's may repeat what the customer said), and nothing is left
# pending (an email asked for, a rating awaited).
BOT_SESSION_KEPT = ("turn", "greeted", "misses", "updated_at")


def scrubbed_conversation(doc: Document, at: datetime) -> Document:
    """A conversation's tombstone: status, times (``first_reply_at``, ``human_at``) and
    assignment kept; where it was held on the platform (thread key, recipient, route,
    labels) and what the bot remembered of it removed."""
    kept = {k: v for k, v in doc.items() if k not in {"open_key", "route", "labels"}}
    out = kept | {
        "thread_key": f"erased:{doc['_id']}",
        "recipient_id": "",
        "route": {},
        "labels": [],
        "erased": {"at": at},
    }
    if isinstance(doc.get("bot"), dict):
        out["bot"] = {k: doc["bot"][k] for k in BOT_SESSION_KEPT if k in doc["bot"]}
    return out


def scrubbed_message(doc: Document, at: datetime) -> Document:
    """A message's tombstone: direction, author kind, time and seq kept; text, edits,
    raw payload, attachments and names removed (the attachment count stays)."""
    author = dict(doc.get("author") or {})
    if author.get("kind") == "contact":
        author = {"kind": "contact", "id": "", "name": ""}
    out = doc | {
        "text": ERASED_TEXT,
        "raw": {},
        "edits": [],
        "attachments": [],
        "attachments_erased": len(doc.get("attachments") or []),
        "author": author,
        "client_id": None,
        "erased": {"at": at},
    }
    delivery = doc.get("delivery")
    if isinstance(delivery, dict) and delivery.get("status") == "pending":
        out["delivery"] = delivery | {"status": "failed", "reason": "erased"}
    return out


def scrubbed_comment(doc: Document, at: datetime) -> Document:
    """A comment's tombstone: status, decision and times kept; text, author, address,
    fingerprints (the moderation memory) and the platform post removed."""
    decision = {k: v for k, v in (doc.get("decision") or {}).items() if k != "text"}
    return doc | {
        "text": ERASED_TEXT,
        "author": {"key": f"erased:{doc['_id']}", "name": "", "trust_key": None},
        "email": None,
        "address_hash": None,
        "external": None,
        "digest": None,
        "sketch": [],
        "bands": [],
        "decision": decision,
        "erased": {"at": at},
    }


class PersonalDataStore(StorageBoundary):
    """Reads a contact's data for export, and erases it, in bounded queries."""

    def __init__(self, mongo: MongoStore) -> None:
        self.contacts = mongo.collection("contacts")
        self.conversations = mongo.collection("conversations")
        self.messages = mongo.collection("messages")
        self.events = mongo.collection("conversation_events")
        self.ratings = mongo.collection("ratings")
        self.comments = mongo.collection("comments")
        self.bot_sessions = mongo.collection("bot_sessions")  # before sessions moved
        self.bot_misses = mongo.collection("bot_misses")
        self.links = mongo.collection("links")

    async def contact(self, contact_id: str) -> Document | None:
        return await self.contacts.find_one({"_id": contact_id})

    async def conversation_pages(self, contact_id: str) -> AsyncIterator[list[Document]]:
        """The contact's conversations, a page at a time, newest first."""
        query: Document = {"contact_id": contact_id}
        while True:
            page = await self.conversations.find(query).sort("_id", -1).limit(PAGE).to_list()
            if page:
                yield page
            if len(page) < PAGE:
                return
            query = {"contact_id": contact_id, "_id": {"$lt": page[-1]["_id"]}}

    async def message_pages(self, conversation: Document) -> AsyncIterator[list[Document]]:
        """A conversation's messages in seq order, one seq window at a time (then any
        stored before seqs existed)."""
        cid = conversation["_id"]
        top = int(conversation.get("last_seq") or 0)
        low = 1
        while True:
            window = {"conversation_id": cid, "seq": {"$gte": low, "$lt": low + PAGE}}
            page = await self.messages.find(window).sort("seq", 1).to_list()
            if page:
                yield page
            elif low > top:
                break
            low += PAGE
        legacy = await self.messages.find({"conversation_id": cid, "seq": None}).to_list()
        if legacy:
            yield legacy

    async def conversation_extras(self, conversation: Document) -> tuple[list[Document], ...]:
        """(events, ratings, bot sessions, bot misses) of one conversation. The bot's
        session is on the conversation (``bot``); one from before that is in
        ``bot_sessions``."""
        conversation_id = conversation["_id"]
        events = (
            await self.events.find({"conversation_id": conversation_id}).sort("at", 1).to_list()
        )
        ratings = await self.ratings.find({"_id": conversation_id}).to_list()
        sessions = await self.bot_sessions.find({"_id": conversation_id}).to_list()
        if isinstance(conversation.get("bot"), dict):
            sessions.append({"_id": conversation_id, **conversation["bot"]})
        misses = (
            await self.bot_misses.find({"conversation_id": conversation_id}).sort("at", 1).to_list()
        )
        return events, ratings, sessions, misses

    async def comment_pages(self, contact: Document) -> AsyncIterator[list[Document]]:
        """Comments under each of the contact's author keys, oldest first, by time ranges."""
        for key in comment_author_keys(contact):
            after: datetime | None = None
            seen: set[Any] = set()
            while True:
                query: Document = {"author.key": key}
                if after is not None:
                    query["created_at"] = {"$gte": after}
                docs = await self.comments.find(query).sort("created_at", 1).limit(PAGE).to_list()
                fresh = [d for d in docs if d["_id"] not in seen]
                if fresh:
                    yield fresh
                if len(docs) < PAGE or not fresh:
                    break
                after = docs[-1]["created_at"]
                seen = {d["_id"] for d in docs if d["created_at"] == after}

    # -- erasure -----------------------------------------------------------------------
    async def erase_conversation(self, conversation: Document, at: datetime) -> int:
        """Tombstone one conversation and its messages; the number of messages."""
        erased = 0
        async for page in self.message_pages(conversation):
            await self.messages.bulk_write([_replace(scrubbed_message(doc, at)) for doc in page])
            erased += len(page)
        await self.conversations.replace_one(
            {"_id": conversation["_id"]}, scrubbed_conversation(conversation, at)
        )
        await self.bot_sessions.delete_one({"_id": conversation["_id"]})
        await self.bot_misses.delete_many({"conversation_id": conversation["_id"]})
        await self.links.delete_many({"conversation_id": conversation["_id"]})
        return erased

    async def forget_archived(self, conversation_ids: list[str]) -> None:
        """What stays in MongoDB of conversations now only in the archive: the bot's
        session from before it moved, its misses, the platform thread links."""
        for start in range(0, len(conversation_ids), PAGE):
            ids = conversation_ids[start : start + PAGE]
            await self.bot_sessions.delete_many({"_id": {"$in": ids}})
            await self.bot_misses.delete_many({"conversation_id": {"$in": ids}})
            await self.links.delete_many({"conversation_id": {"$in": ids}})

    async def erase_comments(self, contact: Document, at: datetime) -> int:
        erased = 0
        async for page in self.comment_pages(contact):
            await self.comments.bulk_write([_replace(scrubbed_comment(doc, at)) for doc in page])
            erased += len(page)
        return erased

    async def erase_contact(self, contact: Document, at: datetime | None = None) -> None:
        await self.contacts.replace_one(
            {"_id": contact["_id"]}, scrubbed_contact(contact, at or utcnow())
        )


def _replace(doc: Document) -> ReplaceOne[Document]:
    return ReplaceOne({"_id": doc["_id"]}, doc)
