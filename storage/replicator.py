"""Keeps a second MongoDB database in step with the inbox by tailing change streams.

Each change is applied idempotently (replace the whole document by ``_id``, or delete by
``_id``), and the resume token is saved in the *target* after the changes it covers are
applied. A replicator killed at any point restarts from the saved token: changes applied
after the last save are applied again, which changes nothing, and none are skipped.
Without a saved token it first copies every collection, streaming afterwards from a
token taken before the copy, so writes made during the copy are not missed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pymongo import DeleteOne, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from hub.domain import utcnow
from storage.changes import current_token, open_stream
from storage.errors import StorageBoundary

log = logging.getLogger(__name__)

Document = dict[str, Any]
STATE_COLLECTION = "_chorus_replication"

_PIPELINE: list[Document] = [
    {
        "$match": {
            "operationType": {"$in": ["insert", "update", "replace", "delete"]},
            "ns.coll": {"$not": {"$regex": r"^system\."}},
        }
    }
]


def replicated_collections(names: list[str]) -> list[str]:
    """The collections a replica copies: all but the server's and the replicator's own."""
    return sorted(n for n in names if not n.startswith("system.") and n != STATE_COLLECTION)


@dataclass
class ReplicationStats:
    """What the replicator has done so far (for logs, the CLI and benchmarks)."""

    copied: int = 0
    applied: int = 0
    batches: int = 0
    lag_seconds: float = 0.0
    last_applied_at: datetime | None = None
    resumed: bool = False


class ReplicationObserver(Protocol):
    """Where applied counts and lag go (``hub.runtime.metrics.ReplicationMetrics`` exports them)."""

    def record_applied(self, target: str, count: int) -> None: ...

    def record_lag(self, target: str, seconds: float) -> None: ...


class _Unobserved:
    def record_applied(self, target: str, count: int) -> None:
        pass

    def record_lag(self, target: str, seconds: float) -> None:
        pass


class Replicator(StorageBoundary):
    """Source database → target database, one change-stream batch at a time."""

    def __init__(
        self,
        source: AsyncDatabase[Document],
        target: AsyncDatabase[Document],
        *,
        name: str = "default",
        batch_size: int = 500,
        batch_window: float = 0.05,
        max_await_ms: int = 50,
        metrics: ReplicationObserver | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.name = name
        self.batch_size = batch_size
        self.batch_window = batch_window
        self.max_await_ms = max_await_ms
        self.stats = ReplicationStats()
        # The stream's name is the target label: one replicator process may serve several.
        self.metrics: ReplicationObserver = metrics or _Unobserved()
        self.metrics.record_applied(name, 0)  # the stream shows in a scrape before it moves

    async def saved_token(self) -> dict[str, Any] | None:
        doc = await self.target[STATE_COLLECTION].find_one({"_id": self.name})
        return dict(doc["token"]) if doc else None

    async def forget_token(self) -> None:
        """Drop the saved position, so the next run starts with a fresh copy."""
        await self.target[STATE_COLLECTION].delete_one({"_id": self.name})

    async def _save_token(self, token: Mapping[str, Any]) -> None:
        await self.target[STATE_COLLECTION].replace_one(
            {"_id": self.name},
            {"_id": self.name, "token": dict(token), "saved_at": utcnow()},
            upsert=True,
        )

    async def initial_sync(self) -> dict[str, Any]:
        """Copy every collection, then save the token taken before the copy began."""
        token = await current_token(self.source)
        for name in replicated_collections(await self.source.list_collection_names()):
            ops: list[ReplaceOne[Document]] = []
            async for doc in self.source[name].find({}).sort("_id", 1):
                ops.append(ReplaceOne({"_id": doc["_id"]}, doc, upsert=True))
                if len(ops) >= self.batch_size:
                    await self.target[name].bulk_write(ops, ordered=True)
                    self.stats.copied += len(ops)
                    ops = []
            if ops:
                await self.target[name].bulk_write(ops, ordered=True)
                self.stats.copied += len(ops)
        await self._save_token(token)
        log.info("replica initial sync done", extra={"documents": self.stats.copied})
        return token

    async def run(self, stop: asyncio.Event) -> None:
        """Replicate until ``stop`` is set."""
        token = await self.saved_token()
        self.stats.resumed = token is not None
        if token is None:
            token = await self.initial_sync()
        else:
            log.info("replica resuming from its saved token")
        stream = await open_stream(
            self.source,
            _PIPELINE,
            token,
            batch_size=self.batch_size,
            max_await_ms=self.max_await_ms,
        )
        try:
            while not stop.is_set():
                events: list[Mapping[str, Any]] = []
                # A batch ends when full, when the stream is quiet, or after batch_window:
                # under a steady trickle, waiting for a full batch would be all lag.
                window_ends = time.monotonic() + self.batch_window
                while len(events) < self.batch_size and (
                    not events or time.monotonic() < window_ends
                ):
                    event = await stream.try_next()
                    if event is None:
                        break
                    events.append(event)
                if events:
                    await self.apply(events)
                    await self._save_token(events[-1]["_id"])
                else:
                    self._set_lag(0.0)
        finally:
            await stream.close()

    async def apply(self, events: list[Mapping[str, Any]]) -> None:
        """Apply a batch of change events, in order within each collection."""
        per_collection: dict[str, list[ReplaceOne[Document] | DeleteOne]] = defaultdict(list)
        for event in events:
            key = {"_id": event["documentKey"]["_id"]}
            doc = event.get("fullDocument") if event["operationType"] != "delete" else None
            op = DeleteOne(key) if doc is None else ReplaceOne(key, doc, upsert=True)
            per_collection[event["ns"]["coll"]].append(op)
        for name, ops in per_collection.items():
            await self.target[name].bulk_write(ops, ordered=True)
        self.stats.applied += len(events)
        self.stats.batches += 1
        self.metrics.record_applied(self.name, len(events))
        last = events[-1]
        at = last.get("wallTime") or last["clusterTime"].as_datetime()
        self.stats.last_applied_at = at
        self._set_lag(max((utcnow() - at).total_seconds(), 0.0))

    def _set_lag(self, seconds: float) -> None:
        self.stats.lag_seconds = seconds
        self.metrics.record_lag(self.name, seconds)
