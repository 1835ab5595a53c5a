"""The reads behind the device sync feed: change pages, snapshot pages and digests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.changes import Change, ResumeToken, current_token, read_changes
from storage.digest import Digest, conversation_digest
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore
from storage.paging import by_id
from storage.webhook_journal import without_bookkeeping


class SyncFeedStore(StorageBoundary):
    """What ``hub.sync.feed`` reads, so the feed never holds a database handle itself."""

    def __init__(self, mongo: MongoStore) -> None:
        self.db = mongo.db

    async def changes(
        self, token: ResumeToken, limit: int, *, collections: Sequence[str], max_await_ms: int
    ) -> tuple[list[Change], dict[str, Any]]:
        """Up to ``limit`` changes after ``token``, and the token to continue from."""
        return await read_changes(
            self.db, token, limit, collections=collections, max_await_ms=max_await_ms
        )

    async def position(self) -> dict[str, Any]:
        """A change token at the database's current position."""
        return await current_token(self.db)

    async def documents_after(
        self, collection: str, after: str | None, limit: int
    ) -> list[Document]:
        """The next ``limit`` documents of ``collection`` by ``_id``, in bounded bands,
        without the webhook bookkeeping (owed events are not part of what a device syncs)."""
        docs, _ = await by_id(self.db[collection], {}, limit, after)
        return [without_bookkeeping(doc) for doc in docs]

    async def conversation_digest(self, conversation_id: str) -> Digest:
        return await conversation_digest(self.db, conversation_id)
