"""New replies as they are stored: outbound, non-private messages on chosen channels, read
from the instance's change feed (what every hub instance's live fan-out watches)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable

from hub.domain import Message
from storage.change_feed import ChangeFeed
from storage.changes import CursorExpired
from storage.errors import StorageBoundary
from storage.message_docs import message_from_doc
from storage.mongo import Document

log = logging.getLogger(__name__)


class ReplyStream(StorageBoundary):
    """Opened once, read with ``replies``; after a failure ``reopen`` continues where the
    last read stopped (or from now, when replies were missed)."""

    def __init__(self, feed: ChangeFeed, channels: Iterable[str]) -> None:
        chosen = frozenset(channels)

        def is_reply(event: Document) -> bool:
            doc = event.get("fullDocument") or {}
            return (
                doc.get("direction") == "outbound"
                and doc.get("private") is False
                and doc.get("channel") in chosen
            )

        self._replies = feed.subscribe({"messages": ("insert",)}, is_reply)

    async def open(self) -> None:
        """Start watching; returns once the stream is open, so no later reply is missed."""
        await self._replies.open()

    async def reopen(self) -> None:
        """Watch again from the last position read; from now if replies were missed (a
        missed one is in its customer's history, which the widget reads when it resumes)."""
        try:
            await self._replies.reopen()
        except CursorExpired:
            log.warning("live replies missed: visitors see them in history when they resume")

    async def replies(self) -> AsyncIterator[Message]:
        """Each reply as it is inserted, until the stream fails."""
        async for event in self._replies.events():
            yield message_from_doc(event["fullDocument"])
