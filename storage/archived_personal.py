"""A contact's conversations in the archive store: read them for export, tombstone them.

``archive_catalog`` says which object holds each archived conversation, and (for runs
since erasure support) whose it is. An object holds up to 500 conversations of many
people, so erasure *rewrites* it: the contact's conversation and message records become
the same tombstones as in MongoDB, everyone else's stay byte for byte, and the new
SHA-256 goes into the catalog, the run's manifest and the run record.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime

from storage.archive_store import ArchiveStore, verify
from storage.archiver import manifest_key
from storage.errors import StorageBoundary
from storage.jsonl import decode_lines, encode_lines
from storage.mongo import Document, MongoStore
from storage.personal_data import scrubbed_conversation, scrubbed_message


class ArchivedPersonalData(StorageBoundary):
    def __init__(self, mongo: MongoStore, store: ArchiveStore) -> None:
        self.store = store
        self.catalog = mongo.collection("archive_catalog")
        self.runs = mongo.collection("archive_runs")

    async def _by_object(self, contact_id: str) -> dict[tuple[str, str, str], set[str]]:
        by_object: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        async for entry in self.catalog.find({"contact_id": contact_id}):
            by_object[(entry["key"], entry["sha256"], entry["run_id"])].add(entry["_id"])
        return by_object

    async def records(self, contact_id: str) -> AsyncIterator[tuple[Document, list[Document]]]:
        """Each archived conversation of the contact with its messages, object by object."""
        for (key, sha256, _), ids in (await self._by_object(contact_id)).items():
            messages: dict[str, list[Document]] = defaultdict(list)
            conversations: list[Document] = []
            for record in decode_lines(await self.store.get(key, sha256)):
                if "c" in record and record["c"]["_id"] in ids:
                    conversations.append(record["c"])
                elif "m" in record and record["m"]["conversation_id"] in ids:
                    messages[record["m"]["conversation_id"]].append(record["m"])
            for conversation in conversations:
                yield conversation, messages[conversation["_id"]]

    async def erase(self, contact_id: str, at: datetime) -> list[str]:
        """Rewrite every object holding the contact's conversations; the keys rewritten."""
        rewritten = []
        for (key, sha256, run_id), ids in (await self._by_object(contact_id)).items():
            records = []
            for record in decode_lines(await self.store.get(key, sha256)):
                if "c" in record and record["c"]["_id"] in ids:
                    record = {"c": scrubbed_conversation(record["c"], at)}
                elif "m" in record and record["m"]["conversation_id"] in ids:
                    record = {"m": scrubbed_message(record["m"], at)}
                records.append(record)
            stored = await self.store.put(key, encode_lines(records))
            await verify(self.store, stored)
            await self.catalog.update_many({"key": key}, {"$set": {"sha256": stored.sha256}})
            await self.runs.update_one(
                {"_id": run_id, "objects.key": key},
                {"$set": {"objects.$.sha256": stored.sha256, "objects.$.size": stored.size}},
            )
            await self._update_manifest(run_id, key, stored.sha256, stored.size, at)
            rewritten.append(key)
        return rewritten

    async def _update_manifest(
        self, run_id: str, key: str, sha256: str, size: int, at: datetime
    ) -> None:
        manifest_at = manifest_key(run_id)
        if await self.store.head(manifest_at) is None:
            return
        manifest = json.loads(await self.store.get(manifest_at))
        for obj in manifest.get("objects", []):
            if obj.get("key") == key:
                obj["sha256"], obj["size"] = sha256, size
        manifest["rewritten_at"] = at.isoformat()
        await self.store.put(manifest_at, json.dumps(manifest, indent=2).encode())
