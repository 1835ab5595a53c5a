"""One change stream per hub instance, shared by everything in it that watches the inbox.

Every open change stream is a cursor the database keeps reading the oplog for, and every
getMore on it a round trip; a server may also wake each waiting stream on any write and
answer those whose filter matched nothing with an empty batch (the embedded one does).
So an instance opens one stream for the union of what its watchers need (message and
conversation changes, presence signals) and hands each event to the subscriptions that
want it: one getMore per batch for the instance, rather than one per watcher.
A getMore leaves at least ``PACE_SECONDS`` after the one before: the embedded server
answers a waiting getMore as soon as anything is written, so under load an unpaced reader
sends one per write; paced, the changes of those milliseconds come back in one batch. A
full batch is followed at once (more is waiting), so pacing never caps the rate the feed
keeps up with. The agents' inbox waits for the stream for its own instance's changes too,
to show every instance's in one order (hub/sync/inbox_relay.py); replies to this
instance's web visitors do not wait (hub/sync/fanout.py).

A subscription keeps, in order, every event dispatched after it opened until its reader
takes it. When the feed fails, each reader's ``events`` raises the ``StorageError`` and its
``reopen`` restarts the feed after the last batch read (the first one to ask does it). A
reader that falls ``backlog`` events behind, or a feed whose position the database no
longer has, leaves a gap: the next ``reopen`` raises ``CursorExpired`` once, and the
subscription carries on from the current position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from bson.int64 import Int64
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure, PyMongoError

from hub.errors import StorageError
from storage.changes import CursorExpired, refused_position
from storage.errors import StorageBoundary, translate
from storage.mongo import Document, MongoStore

log = logging.getLogger(__name__)

# What any watcher of an instance may subscribe to, by collection and operation.
WATCHED: dict[str, tuple[str, ...]] = {
    "messages": ("insert", "update", "replace"),
    "conversations": ("insert", "update", "replace"),
    "presence_signals": ("insert",),
}
AWAIT_MS = 500
PACE_SECONDS = 0.025
BATCH = 100
BACKLOG = 10_000
Predicate = Callable[[Document], bool]


def _pipeline() -> list[Document]:
    wanted = [
        {"ns.coll": collection, "operationType": {"$in": list(ops)}}
        for collection, ops in WATCHED.items()
    ]
    return [{"$match": {"$or": wanted}}]


class Subscription(StorageBoundary):
    """One watcher's share of the feed: ``open``, then read ``events``; after they end or
    fail, ``reopen`` (``CursorExpired``: events were missed, reading goes on from now)."""

    def __init__(self, feed: ChangeFeed, wants: Predicate) -> None:
        self._feed = feed
        self.wants = wants
        self._events: deque[Document] = deque()
        self._ready = asyncio.Event()
        self._failure: StorageError | None = None
        self._behind = False
        self._epoch = -1

    async def open(self) -> None:
        """Receive every change committed from now on; returns once the feed is open."""
        await self._feed.attach(self)
        self._reset()

    async def reopen(self) -> None:
        """Go on after the last event read, restarting the feed if it failed."""
        await self._feed.attach(self)
        self._failure = None
        if self._behind or self._epoch != self._feed.epoch:
            self._reset()
            raise CursorExpired("changes were missed")

    def _reset(self) -> None:
        self._events.clear()
        self._behind = False
        self._failure = None
        self._epoch = self._feed.epoch

    async def events(self) -> AsyncIterator[Document]:
        """Each wanted event in commit order; ends when this reader fell behind or the feed
        closed, raises when the feed failed."""
        while True:
            while self._events:
                yield self._events.popleft()
            if self._failure is not None:
                raise self._failure
            if self._behind or self._feed.closed:
                return
            self._ready.clear()
            await self._ready.wait()

    def _push(self, event: Document) -> None:
        if self._behind:
            return
        if len(self._events) >= self._feed.backlog:
            self._behind = True
            self._events.clear()
        else:
            self._events.append(event)
        self._ready.set()

    def _fail(self, error: StorageError | None) -> None:
        self._failure = error
        self._ready.set()


class ChangeFeed(StorageBoundary):
    """The instance's change stream, started by its first subscription and shared by all."""

    def __init__(
        self,
        mongo: MongoStore,
        *,
        await_ms: int = AWAIT_MS,
        batch: int = BATCH,
        backlog: int = BACKLOG,
        pace_seconds: float = PACE_SECONDS,
    ) -> None:
        self._db = mongo.db
        self.await_ms = await_ms
        self.pace_seconds = pace_seconds
        self.batch = batch
        self.backlog = backlog
        self.epoch = 0  # counts the times the feed had to start again from "now"
        self.closed = False
        self._subscriptions: list[Subscription] = []
        self._token: Mapping[str, Any] | None = None
        self._session: AsyncClientSession | None = None
        self._cursor_id = 0
        self._reader: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    def subscribe(
        self, collections: Mapping[str, tuple[str, ...]], where: Predicate | None = None
    ) -> Subscription:
        """A subscription to these operations on these collections (and ``where`` holds)."""
        for collection, ops in collections.items():
            if not set(ops) <= set(WATCHED.get(collection, ())):
                raise ValueError(f"the change feed does not watch {ops} on {collection!r}")
        wanted = {c: frozenset(ops) for c, ops in collections.items()}

        def wants(event: Document) -> bool:
            ops = wanted.get(event["ns"]["coll"])
            return (
                ops is not None
                and event["operationType"] in ops
                and (where is None or where(event))
            )

        return Subscription(self, wants)

    async def attach(self, subscription: Subscription) -> None:
        """Run the feed (restarting it after a failure) and deliver to ``subscription``."""
        self.closed = False
        async with self._starting:
            if self._reader is None or self._reader.done():
                await self._start()
        if subscription not in self._subscriptions:
            self._subscriptions.append(subscription)

    async def close(self) -> None:
        """Stop reading; the subscriptions' readers end."""
        self.closed = True
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self._release()
        for subscription in self._subscriptions:
            subscription._fail(None)

    async def _start(self) -> None:
        await self._release()
        self._session = self._db.client.start_session(causal_consistency=False)
        try:
            try:
                first = await self._aggregate(self._token)
            except CursorExpired:
                log.warning("change feed position lost: watching from now")
                self.epoch += 1
                self._token = None
                first = await self._aggregate(None)
        except PyMongoError as exc:
            await self._release()
            raise translate(exc) from exc
        except BaseException:
            await self._release()
            raise
        self._dispatch(first)
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="change feed")

    async def _aggregate(self, token: Mapping[str, Any] | None) -> Document:
        stage: Document = {"fullDocument": "updateLookup"}
        if token is not None:
            stage["resumeAfter"] = dict(token)
        try:
            reply = await self._command(
                {
                    "aggregate": 1,
                    "pipeline": [{"$changeStream": stage}, *_pipeline()],
                    "cursor": {"batchSize": self.batch},
                }
            )
        except OperationFailure as exc:
            expired = refused_position(exc, token)
            if expired is not None:
                raise expired from exc
            raise
        cursor: Document = reply["cursor"]
        self._cursor_id = int(cursor["id"])
        return {"batch": cursor.get("firstBatch", []), "token": cursor.get("postBatchResumeToken")}

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        sent_at = loop.time()  # the aggregate's first batch
        full = False
        try:
            while True:
                wait = sent_at + self.pace_seconds - loop.time()
                if wait > 0 and not full:
                    await asyncio.sleep(wait)
                sent_at = loop.time()
                reply = await self._command(
                    {
                        "getMore": Int64(self._cursor_id),
                        "collection": "$cmd.aggregate",
                        "batchSize": self.batch,
                        "maxTimeMS": self.await_ms,
                    }
                )
                cursor = reply["cursor"]
                batch = cursor.get("nextBatch", [])
                full = len(batch) >= self.batch
                self._dispatch({"batch": batch, "token": cursor.get("postBatchResumeToken")})
        except PyMongoError as exc:
            error = translate(exc)
            log.warning("change feed interrupted: %s", error)
            for subscription in self._subscriptions:
                subscription._fail(error)

    def _dispatch(self, read: Document) -> None:
        for event in read["batch"]:
            for subscription in self._subscriptions:
                if subscription.wants(event):
                    subscription._push(event)
        token = read["token"] or (read["batch"][-1]["_id"] if read["batch"] else None)
        if token is not None:
            self._token = token

    async def _command(
        self, command: Document, session: AsyncClientSession | None = None
    ) -> Document:
        reply: Document = await self._db.command(
            command, session=session or self._session, codec_options=self._db.codec_options
        )
        return reply

    async def _release(self) -> None:
        """Kill the open cursor and end its session (best effort: the server times both out)."""
        cursor_id, self._cursor_id = self._cursor_id, 0
        session, self._session = self._session, None
        if session is None:
            return
        with contextlib.suppress(PyMongoError):
            if cursor_id:
                await self._command(
                    {"killCursors": "$cmd.aggregate", "cursors": [Int64(cursor_id)]}, session
                )
        with contextlib.suppress(PyMongoError):
            await session.end_session()
