"""New replies as they are stored: outbound, non-private messages on chosen channels, read
from a MongoDB change stream (what every hub instance's live fan-out watches)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from pymongo.asynchronous.change_stream import AsyncChangeStream

from hub.domain import Message
from storage.changes import open_stream
from storage.errors import StorageBoundary
from storage.message_docs import message_from_doc
from storage.mongo import Document, MongoStore

AWAIT_MS = 500


class ReplyStream(StorageBoundary):
    """Opened once, read with ``replies``; after a failure ``reopen`` continues where the
    last read stopped (or from now, when that position is gone)."""

    def __init__(self, mongo: MongoStore, channels: Iterable[str]) -> None:
        self._db = mongo.db
        self._pipeline: list[Document] = [
            {
                "$match": {
                    "operationType": "insert",
                    "ns.coll": "messages",
                    "fullDocument.direction": "outbound",
                    "fullDocument.private": False,
                    "fullDocument.channel": {"$in": sorted(channels)},
                }
            }
        ]
        self._stream: AsyncChangeStream[Document] | None = None
        self._token: dict[str, Any] | None = None

    async def open(self) -> None:
        """Start watching; returns once the stream is open, so no later reply is missed."""
        self._stream = await open_stream(self._db, self._pipeline, None, max_await_ms=AWAIT_MS)

    async def reopen(self) -> None:
        """Watch again from the last position read; from now if the server refuses it."""
        token, self._token = self._token, None  # a refused position is not tried twice
        self._stream = await open_stream(self._db, self._pipeline, token, max_await_ms=AWAIT_MS)

    async def replies(self) -> AsyncIterator[Message]:
        """Each reply as it is inserted, until the stream fails."""
        stream = self._stream
        assert stream is not None, "open the stream first"
        try:
            async with stream:
                async for event in stream:
                    yield message_from_doc(event["fullDocument"])
        finally:
            token = stream.resume_token
            self._token = dict(token) if token is not None else None
