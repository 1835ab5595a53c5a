"""Archiving: resolved conversations leave MongoDB for the archive store, and come back.

A run goes through phases recorded in ``archive_runs`` so a crash never leaves anything
half-archived: ``selected`` (the conversations and their ``updated_at`` are fixed) →
``uploaded`` (objects and manifest written and read back against their SHA-256) →
``marked`` (conversations flagged ``archived`` and catalogued) → ``deleted`` (removed from
MongoDB when configured) → ``done``. A rerun first finishes unfinished runs from the
phase they reached; every phase is idempotent, so repeating one is harmless.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import DeleteMany, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from hub.domain import new_id, utcnow
from storage.archive_store import ArchiveStore, StoredObject, verify
from storage.errors import StorageBoundary
from storage.jsonl import decode_lines, encode_lines
from storage.leases import LeaseStore
from storage.mongo import Document, MongoStore
from storage.progress import Progress

PHASES = ("selected", "uploaded", "marked", "deleted", "done")
PhaseHook = Callable[[str, str], Awaitable[None]]
CONVERSATIONS_PER_OBJECT = 500


class ArchiveNotFound(LookupError):
    """No archived conversation matches."""


@dataclass
class ArchiveReport:
    runs: list[str] = field(default_factory=list)
    conversations: int = 0
    messages: int = 0
    objects: list[StoredObject] = field(default_factory=list)


def object_key(run_id: str, month: str, part: int) -> str:
    return f"archive/conversations/{month}/{run_id}-{part:04d}.jsonl.gz"


def manifest_key(run_id: str) -> str:
    return f"archive/runs/{run_id}.json"


def _selected(conversation: Document) -> Document:
    return {"id": conversation["_id"], "updated_at": conversation["updated_at"]}


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Archiver(StorageBoundary):
    """Moves resolved conversations to the archive store and brings them back."""

    def __init__(
        self,
        mongo: MongoStore,
        store: ArchiveStore,
        *,
        after_days: int,
        delete_after_archive: bool,
        batch_limit: int = 5000,
    ) -> None:
        self.store = store
        self.after_days = after_days
        self.delete_after_archive = delete_after_archive
        self.batch_limit = batch_limit
        self.conversations = mongo.collection("conversations")
        self.messages = mongo.collection("messages")
        self.runs = mongo.collection("archive_runs")
        self.catalog = mongo.collection("archive_catalog")
        self.leases = LeaseStore(mongo)

    # -- archiving -----------------------------------------------------------------
    async def run(
        self, now: datetime | None = None, after_phase: PhaseHook | None = None
    ) -> ArchiveReport:
        """Finish unfinished runs, then archive what is due. ``after_phase`` is called with
        (run id, phase) after each phase is recorded (a seam for crash tests)."""
        async with self.leases.hold("archive-run", new_id(), ttl_seconds=120):
            return await self._run(now, after_phase)

    async def _run(self, now: datetime | None, after_phase: PhaseHook | None) -> ArchiveReport:
        report = ArchiveReport()
        async for unfinished in self.runs.find({"phase": {"$ne": "done"}}, sort=[("_id", 1)]):
            await self._advance(unfinished, report, after_phase)
        run = await self._select(now or utcnow())
        if run is not None:
            if after_phase is not None:
                await after_phase(run["_id"], "selected")
            await self._advance(run, report, after_phase)
        return report

    async def _select(self, now: datetime) -> Document | None:
        cutoff = now - timedelta(days=self.after_days)
        query = {"status": "resolved", "updated_at": {"$lt": cutoff}, "archived": None}
        found = await self.conversations.find(
            query, {"_id": 1, "updated_at": 1}, sort=[("_id", 1)], limit=self.batch_limit
        ).to_list()
        found = await not_restored(self.catalog, found)
        if not found:
            return None
        run: Document = {
            "_id": new_id(),
            "phase": "selected",
            "cutoff": cutoff,
            "started_at": utcnow(),
            "selected": [_selected(doc) for doc in found],
        }
        await self.runs.insert_one(run)
        return run

    async def _advance(
        self, run: Document, report: ArchiveReport, after_phase: PhaseHook | None
    ) -> None:
        steps = {
            "selected": self._upload,
            "uploaded": self._mark,
            "marked": self._delete,
            "deleted": self._finish,
        }
        report.runs.append(run["_id"])
        while run["phase"] != "done":
            run = await steps[run["phase"]](run)
            await self.runs.replace_one({"_id": run["_id"]}, run)
            if after_phase is not None:
                await after_phase(run["_id"], run["phase"])
        objects = run["objects"]
        report.conversations += sum(len(o["conversations"]) for o in objects)
        report.messages += sum(o["messages"] for o in objects)
        report.objects.extend(StoredObject(o["key"], o["size"], o["sha256"]) for o in objects)

    async def _upload(self, run: Document) -> Document:
        """Export the selected conversations still unchanged, month by month, and verify."""
        wanted = {item["id"]: item["updated_at"] for item in run["selected"]}
        by_month: dict[str, list[Document]] = defaultdict(list)
        async for doc in self.conversations.find({"_id": {"$in": list(wanted)}}, sort=[("_id", 1)]):
            if doc["status"] == "resolved" and doc["updated_at"] == wanted[doc["_id"]]:
                by_month[doc["updated_at"].strftime("%Y/%m")].append(doc)
        objects = []
        progress = Progress(f"archive {run['_id']}")
        for month in sorted(by_month):
            for part, group in enumerate(_chunks(by_month[month], CONVERSATIONS_PER_OBJECT)):
                objects.append(await self._export(object_key(run["_id"], month, part), group))
                progress.add(len(group) + objects[-1]["messages"], objects[-1]["size"])
        progress.done()
        manifest = {
            "run_id": run["_id"],
            "cutoff": run["cutoff"].isoformat(),
            "objects": [
                {k: o[k] for k in ("key", "sha256", "size", "messages")}
                | {"conversations": len(o["conversations"])}
                for o in objects
            ],
        }
        body = json.dumps(manifest, indent=2).encode()
        await verify(self.store, await self.store.put(manifest_key(run["_id"]), body))
        return {**run, "phase": "uploaded", "objects": objects}

    async def _export(self, key: str, conversations: list[Document]) -> Document:
        """One object: the conversations and all their messages, read back and verified."""
        messages: list[Document] = []
        for conversation in conversations:  # one indexed query each: fast on every server
            messages += await self.messages.find(
                {"conversation_id": conversation["_id"]}, sort=[("_id", 1)]
            ).to_list()
        records = [{"c": c} for c in conversations] + [{"m": m} for m in messages]
        stored = await self.store.put(key, encode_lines(records))
        await verify(self.store, stored)
        return {
            "key": stored.key,
            "sha256": stored.sha256,
            "size": stored.size,
            "conversations": [_selected(c) for c in conversations],
            "messages": len(messages),
            "max_message_id": messages[-1]["_id"] if messages else None,
        }

    async def _mark(self, run: Document) -> Document:
        """Flag exported conversations as archived and record where each one lives.

        Only conversations unchanged since export (same ``updated_at``) are flagged."""
        at = utcnow()
        for obj in run["objects"]:
            marker = {"run_id": run["_id"], "key": obj["key"], "at": at}
            await self.conversations.bulk_write(
                [
                    UpdateOne(
                        {"_id": item["id"], "updated_at": item["updated_at"], "status": "resolved"},
                        {"$set": {"archived": marker}},
                    )
                    for item in obj["conversations"]
                ]
            )
            marked = set(await self._marked(run["_id"], obj))
            entries = [
                ReplaceOne({"_id": item["id"]}, {
                    "key": obj["key"], "sha256": obj["sha256"], "run_id": run["_id"],
                    "resolved_at": item["updated_at"], "archived_at": at}, upsert=True)
                for item in obj["conversations"] if item["id"] in marked
            ]  # fmt: skip
            if entries:
                await self.catalog.bulk_write(entries)
        return {**run, "phase": "marked"}

    async def _delete(self, run: Document) -> Document:
        if self.delete_after_archive:
            for obj in run["objects"]:
                marked = await self._marked(run["_id"], obj)
                if obj["max_message_id"] is not None and marked:
                    # Only messages that were exported: a later one is never lost.
                    bound = {"$lte": obj["max_message_id"]}
                    await self.messages.bulk_write(
                        [DeleteMany({"conversation_id": cid, "_id": bound}) for cid in marked]
                    )
                await self.conversations.delete_many(
                    {"_id": {"$in": marked}, "archived.run_id": run["_id"]}
                )
        return {**run, "phase": "deleted"}

    async def _marked(self, run_id: str, obj: Document) -> list[str]:
        """The object's conversations that this run flagged as archived."""
        ids = [item["id"] for item in obj["conversations"]]
        found = await self.conversations.distinct(
            "_id", {"_id": {"$in": ids}, "archived.run_id": run_id}
        )
        return [str(cid) for cid in found]

    async def _finish(self, run: Document) -> Document:
        # Totals on the run, so ``/metrics`` counts what every run archived, whichever
        # process (the hub's schedule or ``chorus archive run``) ran it.
        archived = {
            "conversations": sum(len(o["conversations"]) for o in run["objects"]),
            "messages": sum(o["messages"] for o in run["objects"]),
        }
        return {**run, "phase": "done", "finished_at": utcnow(), "archived": archived}

    # -- restoring -----------------------------------------------------------------
    async def restore_conversation(self, conversation_id: str) -> tuple[int, int]:
        """Bring one archived conversation back exactly as it was; (conversations, messages)."""
        entry = await self.catalog.find_one({"_id": conversation_id})
        if entry is None:
            raise ArchiveNotFound(f"conversation {conversation_id} is not in the archive")
        return await self._restore([entry])

    async def restore_range(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Bring back every archived conversation resolved in [start, end)."""
        entries = await self.catalog.find(
            {"resolved_at": {"$gte": start, "$lt": end}}, sort=[("_id", 1)]
        ).to_list()
        if not entries:
            raise ArchiveNotFound("no archived conversation was resolved in that range")
        return await self._restore(entries)

    async def _restore(self, entries: list[Document]) -> tuple[int, int]:
        by_object: dict[tuple[str, str], set[str]] = defaultdict(set)
        for entry in entries:
            by_object[(entry["key"], entry["sha256"])].add(entry["_id"])
        conversations = messages = 0
        for (key, sha256), ids in by_object.items():
            records = list(decode_lines(await self.store.get(key, sha256)))
            convs = [r["c"] for r in records if "c" in r and r["c"]["_id"] in ids]
            msgs = [r["m"] for r in records if "m" in r and r["m"]["conversation_id"] in ids]
            await _put_back(self.messages, msgs)
            await _put_back(self.conversations, convs)
            await self.catalog.update_many(
                {"_id": {"$in": list(ids)}}, {"$set": {"restored_at": utcnow()}}
            )
            conversations += len(convs)
            messages += len(msgs)
        return conversations, messages


async def not_restored(catalog: AsyncCollection[Document], found: list[Document]) -> list[Document]:
    """Drop conversations brought back on purpose: they stay until they change again."""
    restored = {
        (doc["_id"], doc["resolved_at"])
        async for doc in catalog.find(
            {"_id": {"$in": [d["_id"] for d in found]}, "restored_at": {"$exists": True}}
        )
    }
    return [doc for doc in found if (doc["_id"], doc["updated_at"]) not in restored]


async def _put_back(collection: AsyncCollection[Document], docs: list[Document]) -> None:
    """Write documents exactly as given: insert the missing ones, replace those present."""
    if not docs:
        return
    present = set(await collection.distinct("_id", {"_id": {"$in": [d["_id"] for d in docs]}}))
    missing = [doc for doc in docs if doc["_id"] not in present]
    if missing:
        await collection.insert_many(missing, ordered=False)
    replaced = [ReplaceOne({"_id": d["_id"]}, d) for d in docs if d["_id"] in present]
    if replaced:
        await collection.bulk_write(replaced)
