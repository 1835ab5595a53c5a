"""The one door to MongoDB: client construction, write concern and index management."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError
from pymongo.write_concern import WriteConcern

log = logging.getLogger(__name__)

Document = dict[str, Any]

# Each feature declares its collections' indexes here (or through ``register_indexes``),
# so start-up and ``chorus db init`` create the same set, idempotently.
INDEXES: dict[str, list[IndexModel]] = {
    "contacts": [
        # "channel:external id" for each identity: a plain multikey equality lookup that
        # every MongoDB-wire server serves from the index ($elemMatch plans vary).
        IndexModel([("identity_keys", ASCENDING)], name="identity_unique", unique=True),
    ],
    "conversations": [
        # Only active conversations carry open_key (it is unset on resolution); sparse, not
        # partial, so plain equality queries can use the index.
        IndexModel([("open_key", ASCENDING)], name="open_key_unique", unique=True, sparse=True),
        IndexModel([("last_message_at", DESCENDING), ("_id", DESCENDING)], name="recent"),
        IndexModel(
            [("status", ASCENDING), ("last_message_at", DESCENDING), ("_id", DESCENDING)],
            name="status_recent",
        ),
        IndexModel(
            [("assignee", ASCENDING), ("last_message_at", DESCENDING), ("_id", DESCENDING)],
            name="assignee_recent",
        ),
        IndexModel([("contact_id", ASCENDING), ("_id", DESCENDING)], name="contact"),
        # The assignment queue (open, unassigned; most urgent, then longest waiting first)
        # and agents' loads, read on every handoff and every SLA check.
        IndexModel(
            [
                ("status", ASCENDING),
                ("assignee", ASCENDING),
                ("priority", DESCENDING),
                ("waiting_since", ASCENDING),
                ("_id", ASCENDING),
            ],
            name="queue",
        ),
    ],
    "messages": [
        # Every message has an external id (outbound ones get a hub-made one), so a platform
        # retry or a client resend can never store a second copy.
        IndexModel(
            [("channel", ASCENDING), ("external_id", ASCENDING)],
            name="channel_external_id_unique",
            unique=True,
        ),
        IndexModel([("conversation_id", ASCENDING), ("_id", ASCENDING)], name="thread"),
        # A conversation's seqs are unique (storage/sequence.py allocates them by insert).
        # Messages stored before seqs existed have none: the unique index is partial, and
        # range reads use the plain one (the embedded server plans no query on a partial).
        IndexModel(
            [("conversation_id", ASCENDING), ("seq", ASCENDING)],
            name="conversation_seq_unique",
            unique=True,
            partialFilterExpression={"seq": {"$type": "int"}},
        ),
        IndexModel(
            [("conversation_id", ASCENDING), ("seq", ASCENDING), ("_id", ASCENDING)],
            name="conversation_seq",
        ),
        IndexModel([("channel", ASCENDING), ("_id", ASCENDING)], name="channel_order"),
        IndexModel([("contact_id", ASCENDING), ("_id", ASCENDING)], name="contact_order"),
        IndexModel([("created_at", ASCENDING), ("_id", ASCENDING)], name="created"),
        IndexModel(
            [("delivery.status", ASCENDING), ("delivery.next_attempt_at", ASCENDING)],
            name="outbox",
            partialFilterExpression={"delivery.status": "pending"},
        ),
    ],
}


def register_indexes(collection: str, indexes: Sequence[IndexModel]) -> None:
    """Add a feature's indexes to the set created at start-up."""
    known = INDEXES.setdefault(collection, [])
    names = {index.document["name"] for index in known}
    known.extend(index for index in indexes if index.document["name"] not in names)


def make_client(
    uri: str,
    *,
    server_selection_timeout_ms: int = 5000,
    event_listeners: Sequence[monitoring.CommandListener] = (),
) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        retryWrites=True,
        retryReads=True,
        event_listeners=list(event_listeners),
    )


class MongoStore:
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
        for name, indexes in INDEXES.items():
            if indexes:
                await self.db[name].create_indexes(list(indexes))
                if on_progress is not None:
                    on_progress(f"{name}: {len(indexes)} indexes")

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def close(self) -> None:
        await self.client.close()
