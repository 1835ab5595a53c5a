"""The inbox as other hub instances change it: message inserts and updates, conversation
inserts and updates, read from the instance's change feed (what each instance's agents'
live feed watches, shared by all its sockets)."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from hub.domain import Conversation, Message
from storage.change_feed import ChangeFeed
from storage.errors import StorageBoundary
from storage.inbox import conversation_from_doc
from storage.message_docs import message_from_doc
from storage.mongo import Document
from storage.update_replay import NotReplayable, apply_update
from storage.webhook_journal import is_bookkeeping

OPS = ("insert", "update", "replace")
REPLAYED = 10_000


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
    last read stopped, or raises ``CursorExpired`` when changes were missed (then it goes
    on from now)."""

    def __init__(self, feed: ChangeFeed) -> None:
        self.feed = feed
        self._changes = feed.subscribe({"messages": OPS, "conversations": OPS})
        # Each conversation as of the last change read: an update applies to it, so two
        # updates read together each show their own state (``updateLookup`` gives both the
        # later one's).
        self._conversations: OrderedDict[Any, Document] = OrderedDict()

    async def open(self) -> None:
        """Start watching from now; returns once the stream is open."""
        await self._changes.open()

    async def reopen(self) -> None:
        """Watch again from the last position read (``CursorExpired`` if changes were missed)."""
        await self._changes.reopen()

    async def changes(self) -> AsyncIterator[InboxChange]:
        """Each change as it commits, in commit order, until the stream fails."""
        async for event in self._changes.events():
            if event["ns"]["coll"] == "conversations":
                event = self._replayed(event)
            change = _change(event)
            if change is not None:
                yield change

    def _replayed(self, event: Document) -> Document:
        key = event["documentKey"]["_id"]
        before = self._conversations.get(key)
        described = event.get("updateDescription")
        doc = event.get("fullDocument")
        if event["operationType"] == "update" and before is not None and described:
            # Not replayable: the looked-up state, as without a document to replay on.
            with contextlib.suppress(NotReplayable):
                doc = apply_update(before, described)
        if doc is None:
            self._conversations.pop(key, None)
            return event
        self._conversations[key] = doc
        self._conversations.move_to_end(key)
        while len(self._conversations) > REPLAYED:
            self._conversations.popitem(last=False)
        return {**event, "fullDocument": doc}


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
