"""Change capture and replay: the incremental half of backups.

Changes are read from a database-wide change stream (MongoDB's resumable oplog view).
Capture stops at a *fence*: a write the backup itself makes to ``backup_marks``, so "all
changes up to here" is exact without guessing at clocks. Replay turns each change back
into an idempotent write (replace, ``$set``/``$unset``, delete), the way an oplog is
applied: replaying a change twice, or over a document read later than the change,
converges to the same state.

Limits: only data changes are replayed (a dropped collection is emptied; index changes
are not captured, restores build indexes from the full backup). Capture reaches back as
far as the server's change history (the oplog window): an incremental taken after its
parent's position has rolled off fails and asks for a new full backup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from pymongo import DeleteOne, ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from hub.domain import utcnow
from storage.mongo import Document

log = logging.getLogger(__name__)

FENCES = "backup_marks"
# Bookkeeping that is never backed up: fences, leases and the record of backup runs
# describe a process, not data; presence signals (typing) live for seconds.
NOT_BACKED_UP = frozenset({FENCES, "leases", "backup_runs", "presence_signals"})
FENCE_TIMEOUT_SECONDS = 120.0
APPLIED_OPS = frozenset({"insert", "replace", "update", "delete", "drop"})


class ChangeHistoryLost(Exception):
    """The change stream can no longer resume from the position asked for."""


async def current_position(db: AsyncDatabase[Document]) -> Document:
    """A resume token for 'now', from opening and closing a change stream."""
    async with await db.watch() as stream:
        token = stream.resume_token
    assert token is not None
    return dict(token)


async def capture_until_fence(
    db: AsyncDatabase[Document], resume_after: Document, fence_id: str
) -> tuple[list[Document], Document]:
    """Every data change after ``resume_after``, up to a fence written now.

    Returns the changes (as compact records) and the fence's own position, where the
    next capture resumes."""
    await db[FENCES].replace_one({"_id": fence_id}, {"_id": fence_id, "at": utcnow()}, upsert=True)
    records: list[Document] = []
    try:
        stream = await db.watch(resume_after=resume_after)
        async with asyncio.timeout(FENCE_TIMEOUT_SECONDS), stream:
            async for change in stream:
                coll = change.get("ns", {}).get("coll")
                if coll == FENCES and change["documentKey"]["_id"] == fence_id:
                    fence = {
                        "token": dict(change["_id"]),
                        "cluster_time": change["clusterTime"],
                        "wall_time": change.get("wallTime") or utcnow(),
                    }
                    return records, fence
                record = change_record(change)
                if record is not None:
                    records.append(record)
    except OperationFailure as exc:
        raise ChangeHistoryLost(str(exc)) from exc
    raise ChangeHistoryLost("the change stream ended before the fence was seen")


def change_record(change: Document) -> Document | None:
    """The part of a change event needed to replay it; None for what is not replayed."""
    op = change["operationType"]
    coll = change.get("ns", {}).get("coll")
    if op not in APPLIED_OPS or coll is None or coll in NOT_BACKED_UP:
        if op not in APPLIED_OPS:
            log.warning("change not replayable, skipped", extra={"op": op, "coll": coll})
        return None
    record: Document = {"w": change.get("wallTime"), "c": coll, "op": op}
    if op != "drop":
        record["k"] = change["documentKey"]["_id"]
    if op in ("insert", "replace"):
        record["d"] = change["fullDocument"]
    elif op == "update":
        record["u"] = change["updateDescription"]
    return record


def _write_ops(record: Document) -> list[Any]:
    key = {"_id": record["k"]}
    op = record["op"]
    if op in ("insert", "replace"):
        return [ReplaceOne(key, record["d"], upsert=True)]
    if op == "delete":
        return [DeleteOne(key)]
    description = record["u"]
    ops: list[Any] = []
    truncated = description.get("truncatedArrays") or []
    if truncated:
        slices = {t["field"]: {"$each": [], "$slice": t["newSize"]} for t in truncated}
        ops.append(UpdateOne(key, {"$push": slices}))
    update: Document = {}
    if description.get("updatedFields"):
        update["$set"] = description["updatedFields"]
    if description.get("removedFields"):
        update["$unset"] = {name: "" for name in description["removedFields"]}
    if update:
        ops.append(UpdateOne(key, update))
    return ops


async def apply_changes(db: AsyncDatabase[Document], records: AsyncIterator[Document]) -> int:
    """Replay change records in order, batching runs of writes to one collection."""
    applied = 0
    batch: list[Any] = []
    batch_coll: str | None = None

    async def flush() -> None:
        nonlocal batch
        if batch and batch_coll is not None:
            await db[batch_coll].bulk_write(batch, ordered=True)
        batch = []

    async for record in records:
        if record["c"] != batch_coll or len(batch) >= 1000:
            await flush()
            batch_coll = record["c"]
        if record["op"] == "drop":
            await flush()
            await db[record["c"]].drop()
        else:
            batch.extend(_write_ops(record))
        applied += 1
    await flush()
    return applied
