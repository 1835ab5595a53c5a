"""Presence that outlives a page: customers' read receipts and agents' own read marks.

Typing is never stored (it is an ephemeral signal, ``hub.runtime.presence``); what a customer has
seen is kept on the conversation (``customer_seen_seq``) so the inbox shows "seen" after a
reload, and each agent's read mark per conversation lives in ``agent_reads`` so their
unread counts survive one too.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from hub.domain import Conversation
from storage.change_feed import ChangeFeed
from storage.changes import CursorExpired
from storage.errors import StorageBoundary
from storage.inbox import conversation_from_doc, open_key
from storage.mongo import Document, MongoStore


class CustomerSeen(StorageBoundary):
    """The conversation side: the active conversation of a thread and its read receipt."""

    def __init__(self, conversations: AsyncCollection[Document]) -> None:
        self.conversations = conversations

    async def active(self, contact_id: str, channel: str, thread_key: str) -> Conversation | None:
        """The contact's active conversation in that thread (one unique-index lookup)."""
        doc = await self.conversations.find_one(
            {"open_key": open_key(contact_id, channel, thread_key)}
        )
        return conversation_from_doc(doc) if doc else None

    async def advance(self, conversation_id: str, seq: int, at: datetime) -> Conversation | None:
        """Move the receipt forward to ``seq``; None when it already stood there or beyond
        (a receipt never goes back, so a late or repeated one changes nothing)."""
        doc = await self.conversations.find_one_and_update(
            {"_id": conversation_id, "customer_seen_seq": {"$not": {"$gte": seq}}},
            {"$set": {"customer_seen_seq": seq, "customer_seen_at": at}},
            return_document=ReturnDocument.AFTER,
        )
        return conversation_from_doc(doc) if doc else None


class AgentReads(StorageBoundary):
    """Each agent's read mark per conversation: read up to ``read_at``."""

    def __init__(self, mongo: MongoStore) -> None:
        self.reads = mongo.collection("agent_reads")

    async def mark(self, agent_id: str, conversation_id: str, at: datetime) -> datetime:
        """Read up to ``at`` (never earlier than a mark already stored); the mark kept."""
        doc = await self.reads.find_one_and_update(
            {"_id": f"{agent_id}|{conversation_id}"},
            {
                "$max": {"read_at": at},
                "$setOnInsert": {"agent_id": agent_id, "conversation_id": conversation_id},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None
        read_at: datetime = doc["read_at"]
        return read_at

    async def since(self, agent_id: str, since: datetime, limit: int) -> list[Document]:
        """The agent's marks set after ``since``, newest first (bounded by time, then count)."""
        cursor = self.reads.find(
            {"agent_id": agent_id, "read_at": {"$gt": since}},
            {"_id": 0, "conversation_id": 1, "read_at": 1},
            sort=[("read_at", -1)],
            limit=limit,
        )
        return await cursor.to_list()


# A signal is worth something for seconds; a TTL index (storage/indexes.py) sweeps them.
SIGNALS = "presence_signals"


class PresenceSignals(StorageBoundary):
    """Presence signals shared between hub instances: each is inserted once and read by
    every instance from its change feed (nothing queries the collection)."""

    def __init__(self, mongo: MongoStore, feed: ChangeFeed) -> None:
        self.signals = mongo.collection(SIGNALS)
        self._inserts = feed.subscribe({SIGNALS: ("insert",)})

    async def share(self, signal: Document) -> None:
        await self.signals.insert_one(dict(signal))

    async def open(self) -> None:
        """Start watching; returns once the stream is open, so no later signal is missed."""
        await self._inserts.open()

    async def reopen(self) -> None:
        """Watch again after the last signal read; from now if signals were missed
        (a signal missed in an outage has expired by then anyway)."""
        with contextlib.suppress(CursorExpired):
            await self._inserts.reopen()

    async def read(self) -> AsyncIterator[Document]:
        """Each signal as it is inserted, until the stream fails."""
        async for event in self._inserts.events():
            yield event["fullDocument"]
