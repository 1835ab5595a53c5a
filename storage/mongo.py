"""The one door to MongoDB: client construction, write concern and index management."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError
from pymongo.write_concern import WriteConcern

from storage.errors import StorageBoundary, storage_errors
from storage.indexes import INDEXES

log = logging.getLogger(__name__)

Document = dict[str, Any]


def make_client(
    uri: str,
    *,
    server_selection_timeout_ms: int = 5000,
    event_listeners: Sequence[monitoring.CommandListener] = (),
) -> AsyncMongoClient[Document]:
    """A client for ``uri``; ``StorageMisconfigured`` when the URI cannot be used."""
    with storage_errors():
        return AsyncMongoClient(
            uri,
            tz_aware=True,
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            retryWrites=True,
            retryReads=True,
            event_listeners=list(event_listeners),
        )


class MongoStore(StorageBoundary):
    """The connected database, with the write concern every acknowledged write uses."""

    def __init__(
        self, client: AsyncMongoClient[Document], database: str, write_concern: str = "majority"
    ) -> None:
        self.client = client
        concern = WriteConcern(w="majority" if write_concern == "majority" else 1)
        self.db: AsyncDatabase[Document] = client.get_database(database, write_concern=concern)

    def collection(self, name: str) -> AsyncCollection[Document]:
        return self.db[name]

    async def ensure_indexes(self, on_progress: Callable[[str], None] | None = None) -> None:
        """Create every collection's indexes (idempotent): start-up and ``chorus db init``."""
        for name, indexes in INDEXES.items():
            if indexes:
                await self.db[name].create_indexes(list(indexes))
                if on_progress is not None:
                    on_progress(f"{name}: {len(indexes)} indexes")

    async def check(self) -> None:
        """Ask the server to answer; a ``StorageError`` says why it did not."""
        await self.db.command("ping")

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def close(self) -> None:
        await self.client.close()
