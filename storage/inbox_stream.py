"""The inbox as other hub instances change it: message inserts and updates, conversation
inserts and updates, read from one MongoDB change stream (what each instance's agents'
live feed watches, shared by all its sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from pymongo.asynchronous.change_stream import AsyncChangeStream

from hub.domain import Conversation, Message
from storage.changes import open_stream
from storage.errors import StorageBoundary
from storage.inbox import conversation_from_doc
from storage.message_docs import message_from_doc
from storage.mongo import Document, MongoStore
from storage.webhook_journal import is_bookkeeping

AWAIT_MS = 500
BATCH = 100


@dataclass(frozen=True, slots=True)
class InboxChange:
    """A document's state after a change, and the top-level fields the change touched
    (empty for an insert or a replace)."""

    op: Literal["insert", "update", "replace"]
    message: Message | None = None
    conversation: Conversation | None = None
    fields: frozenset[str] = frozenset()


class InboxStream(StorageBoundary):
    """Opened once, read with ``changes``; after a failure ``reopen`` continues where the
    last read stopped, or raises ``CursorExpired`` when that position is gone (then
    ``open`` watches from now)."""

    def __init__(self, mongo: MongoStore) -> None:
        self._db = mongo.db
        self._pipeline: list[Document] = [
            {
                "$match": {
                    "ns.coll": {"$in": ["messages", "conversations"]},
                    "operationType": {"$in": ["insert", "update", "replace"]},
                }
            }
        ]
        self._stream: AsyncChangeStream[Document] | None = None
        self._token: dict[str, Any] | None = None

    async def open(self) -> None:
        """Start watching from now; returns once the stream is open."""
        self._token = None
        self._stream = await self._watch(None)

    async def reopen(self) -> None:
        """Watch again from the last position read (``CursorExpired`` if it is gone)."""
        token, self._token = self._token, None  # a refused position is not tried twice
        self._stream = await self._watch(token)

    async def _watch(self, token: dict[str, Any] | None) -> AsyncChangeStream[Document]:
        return await open_stream(
            self._db, self._pipeline, token, batch_size=BATCH, max_await_ms=AWAIT_MS
        )

    async def changes(self) -> AsyncIterator[InboxChange]:
        """Each change as it commits, in commit order, until the stream fails."""
        stream = self._stream
        assert stream is not None, "open the stream first"
        try:
            async with stream:
                async for event in stream:
                    change = _change(event)
                    if change is not None:
                        yield change
        finally:
            token = stream.resume_token
            self._token = dict(token) if token is not None else None


def _change(event: Document) -> InboxChange | None:
    doc = event.get("fullDocument")
    if doc is None or doc.get("erased") or is_bookkeeping(event):
        return None  # deleted since, an erased person's tombstone, or webhook bookkeeping
    op = event["operationType"]
    described = event.get("updateDescription") or {}
    touched = [*(described.get("updatedFields") or {}), *(described.get("removedFields") or [])]
    fields = frozenset(f.split(".", 1)[0] for f in touched)
    if event["ns"]["coll"] == "messages":
        return InboxChange(op, message=message_from_doc(doc), fields=fields)
    return InboxChange(op, conversation=conversation_from_doc(doc), fields=fields)
