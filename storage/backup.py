"""Full and incremental backups of the whole database, and point-in-time restore.

A full backup is a dump of every collection plus the changes made while it ran, up to a
fence: dump + replayed changes is the database exactly as it was at the fence (the
``mongodump --oplog`` approach, since snapshot reads at a cluster time are not available
everywhere). An incremental is the changes from its parent's fence to its own. Each
manifest records the fence's resume token, object keys with SHA-256, and per-collection
counts and digests at the fence; restore rebuilds an empty database from a chain, stops
at ``--until`` if given, and checks the result against the manifest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from hub.domain import new_id, utcnow
from storage.archive_store import ArchiveStore, ChecksumMismatch, StoredObject
from storage.backup_runs import BackupRunStore
from storage.change_capture import (
    FENCES,
    NOT_BACKED_UP,
    apply_changes,
    capture_until_fence,
    current_position,
)
from storage.digest import collection_digest
from storage.errors import StorageBoundary
from storage.jsonl import decode_lines, dumps, encode_lines, loads
from storage.mongo import Document
from storage.progress import Progress

DOCS_PER_OBJECT = 20_000
CHANGES_PER_OBJECT = 50_000


class BackupError(Exception):
    """A backup or restore cannot proceed; the message says why."""


@dataclass
class RestoreResult:
    backups: list[str]
    verified_against: str | None
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes_after_verification: int = 0

    @property
    def ok(self) -> bool:
        return all(entry["ok"] is not False for entry in self.collections.values())


def manifest_key(backup_id: str) -> str:
    return f"backups/{backup_id}/manifest.json"


class BackupService(StorageBoundary):
    """Writes backups of ``db`` to ``store`` and restores them into an empty database."""

    def __init__(self, db: AsyncDatabase[Document], store: ArchiveStore) -> None:
        self.db = db
        self.store = store
        self.runs = BackupRunStore(db)

    async def _put_checked(self, key: str, data: bytes) -> StoredObject:
        stored = await self.store.put(key, data)
        head = await self.store.head(key)
        if head is None or head.size != stored.size or head.sha256 != stored.sha256:
            raise ChecksumMismatch(f"{key}: the store does not hold what was written")
        return stored

    async def _collections(self) -> list[str]:
        names = await self.db.list_collection_names()
        return sorted(n for n in names if n not in NOT_BACKED_UP and not n.startswith("system."))

    # -- taking backups ----------------------------------------------------------------
    async def full(self, progress: Progress | None = None) -> Document:
        """Dump every collection, then the changes made meanwhile, up to a fence."""
        return await self._recorded("full", self._full, progress)

    async def incremental(self, progress: Progress | None = None) -> Document:
        """The changes since the latest backup's fence."""
        return await self._recorded("incremental", self._incremental, progress)

    async def _recorded(
        self,
        kind: str,
        take: Callable[[Progress | None], Awaitable[Document]],
        progress: Progress | None,
    ) -> Document:
        """Take a backup and record its outcome in ``backup_runs`` (read by ``/metrics``)."""
        started_at = utcnow()
        try:
            manifest = await take(progress)
        except Exception as exc:
            await self.runs.record("failure", kind, started_at, error=type(exc).__name__)
            raise
        await self.runs.record(
            "success", kind, started_at, backup_id=manifest["id"], nbytes=manifest["bytes"]
        )
        return manifest

    async def _full(self, progress: Progress | None) -> Document:
        backup_id = new_id()
        progress = progress or Progress(f"backup {backup_id}")
        started_at = utcnow()
        start = await current_position(self.db)
        collections: Document = {}
        for name in await self._collections():
            collections[name] = await self._dump(backup_id, name, progress)
        changes, fence = await capture_until_fence(self.db, start, backup_id)
        manifest: Document = {
            "id": backup_id,
            "kind": "full",
            "parent": None,
            "started_at": started_at,
            "collections": collections,
        }
        return await self._finish(manifest, changes, fence, progress)

    async def _incremental(self, progress: Progress | None) -> Document:
        parent = await self.latest()
        if parent is None:
            raise BackupError("there is no previous backup: take a full backup first")
        backup_id = new_id()
        progress = progress or Progress(f"backup {backup_id} (incremental)")
        started_at = utcnow()
        changes, fence = await capture_until_fence(self.db, parent["fence"]["token"], backup_id)
        manifest: Document = {
            "id": backup_id,
            "kind": "incremental",
            "parent": parent["id"],
            "started_at": started_at,
        }
        return await self._finish(manifest, changes, fence, progress)

    async def _dump(self, backup_id: str, name: str, progress: Progress) -> Document:
        objects: list[Document] = []
        batch: list[Document] = []

        async def flush() -> None:
            key = f"backups/{backup_id}/data/{name}/{len(objects):05d}.jsonl.gz"
            stored = await self._put_checked(key, encode_lines(batch))
            objects.append({"key": key, "sha256": stored.sha256, "count": len(batch)})
            progress.add(len(batch), stored.size)
            batch.clear()

        async for doc in self.db[name].find({}, sort=[("_id", 1)], batch_size=1000):
            batch.append(doc)
            if len(batch) >= DOCS_PER_OBJECT:
                await flush()
        if batch:
            await flush()
        indexes = [
            index async for index in await self.db[name].list_indexes() if index["name"] != "_id_"
        ]
        return {"objects": objects, "indexes": indexes}

    async def _finish(
        self, manifest: Document, changes: list[Document], fence: Document, progress: Progress
    ) -> Document:
        objects = []
        for part, start in enumerate(range(0, len(changes), CHANGES_PER_OBJECT)):
            chunk = changes[start : start + CHANGES_PER_OBJECT]
            key = f"backups/{manifest['id']}/changes/{part:05d}.jsonl.gz"
            stored = await self._put_checked(key, encode_lines(chunk))
            objects.append({"key": key, "sha256": stored.sha256, "count": len(chunk)})
            progress.add(len(chunk), stored.size)
        manifest["changes"] = objects
        manifest["fence"] = fence
        manifest["state"] = await self._state_at_fence(manifest["id"], fence)
        manifest["finished_at"] = utcnow()
        manifest["bytes"] = progress.bytes  # data and change objects; the manifest is small
        await self._put_checked(manifest_key(manifest["id"]), dumps(manifest).encode())
        progress.done()
        return manifest

    async def _state_at_fence(self, backup_id: str, fence: Document) -> Document:
        """Counts and digests as of the fence. A collection written to while it was being
        digested gets ``null``: its state at the fence is not known, so it is not checked."""
        state: Document = {}
        for name in await self._collections():
            digest = await collection_digest(self.db[name])
            state[name] = {"count": digest.count, "digest": digest.sha256}
        later, _ = await capture_until_fence(self.db, fence["token"], f"{backup_id}-digest")
        for name in {record["c"] for record in later}:
            state[name] = {"count": None, "digest": None}
        await self.db[FENCES].delete_many({"_id": {"$in": [backup_id, f"{backup_id}-digest"]}})
        return state

    # -- the catalogue -----------------------------------------------------------------
    async def manifests(self) -> list[Document]:
        keys = [k for k in await self.store.list("backups/") if k.endswith("/manifest.json")]
        return [loads(await self.store.get(key)) for key in sorted(keys)]

    async def latest(self) -> Document | None:
        found = await self.manifests()
        return found[-1] if found else None

    async def chain(self, backup_id: str) -> list[Document]:
        """The full backup and incrementals leading to ``backup_id``, oldest first."""
        chain: list[Document] = []
        current: str | None = backup_id
        while current is not None:
            if await self.store.head(manifest_key(current)) is None:
                raise BackupError(f"backup {current} not found in the archive store")
            manifest = loads(await self.store.get(manifest_key(current)))
            chain.append(manifest)
            current = manifest["parent"]
        return list(reversed(chain))

    # -- restoring -----------------------------------------------------------------------
    async def restore(
        self,
        target: AsyncDatabase[Document],
        backup_id: str,
        until: datetime | None = None,
        progress: Progress | None = None,
    ) -> RestoreResult:
        chain = await self.chain(backup_id)
        full = chain[0]
        if until is not None and until < full["fence"]["wall_time"]:
            raise BackupError(
                f"backup {full['id']} is consistent from {full['fence']['wall_time']} on; "
                "--until must not be earlier"
            )
        if await target.list_collection_names():
            raise BackupError(f"database {target.name} is not empty; restore needs an empty one")
        progress = progress or Progress(f"restore {backup_id}")
        for name, entry in full["collections"].items():
            for obj in entry["objects"]:
                docs = list(decode_lines(await self.store.get(obj["key"], obj["sha256"])))
                if docs:
                    await target[name].insert_many(docs, ordered=False)
                progress.add(len(docs), 0)
            if entry["indexes"]:
                await target[name].create_indexes([_index_model(i) for i in entry["indexes"]])
        whole = [m for m in chain if until is None or m["fence"]["wall_time"] <= until]
        for manifest in whole:
            progress.add(await apply_changes(target, self._changes(manifest, None)), 0)
        result = RestoreResult([m["id"] for m in chain], whole[-1]["id"])
        result.collections = await _verify(target, whole[-1]["state"])
        for manifest in chain[len(whole) :]:
            applied = await apply_changes(target, self._changes(manifest, until))
            result.changes_after_verification += applied
            progress.add(applied, 0)
        progress.done()
        return result

    async def _changes(self, manifest: Document, until: datetime | None) -> AsyncIterator[Document]:
        for obj in manifest["changes"]:
            for record in decode_lines(await self.store.get(obj["key"], obj["sha256"])):
                if until is not None and record["w"] is not None and record["w"] > until:
                    return
                yield record


def _index_model(index: Document) -> IndexModel:
    options = {k: v for k, v in index.items() if k not in ("key", "v", "ns")}
    return IndexModel(list(index["key"].items()), **options)


async def _verify(target: AsyncDatabase[Document], state: Document) -> dict[str, dict[str, Any]]:
    """Compare the restored collections with the counts and digests a manifest recorded."""
    report: dict[str, dict[str, Any]] = {}
    for name, expected in sorted(state.items()):
        actual = await collection_digest(target[name])
        ok = None if expected["digest"] is None else (
            actual.count == expected["count"] and actual.sha256 == expected["digest"]
        )  # fmt: skip
        report[name] = {
            "count": actual.count,
            "expected_count": expected["count"],
            "digest": actual.sha256,
            "ok": ok,
        }
    return report
