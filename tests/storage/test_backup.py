"""Full and incremental backups, restored into an empty database with equal digests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from bson import Binary, Decimal128, Int64, ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from hub.domain import utcnow
from storage.archive_store import ArchiveStore, ChecksumMismatch
from storage.backup import BackupError, BackupService
from storage.digest import Digest, collection_digest
from storage.inbox import InboxStore
from storage.mongo import MongoStore
from tests.helpers.hub import wait_for
from tests.helpers.storage import corrupt, populate


async def digests(db: AsyncDatabase[Any]) -> dict[str, Digest]:
    names = sorted(
        n
        for n in await db.list_collection_names()
        if n not in ("backup_marks", "leases", "backup_runs", "presence_signals")
    )
    return {name: await collection_digest(db[name]) for name in names}


@pytest.fixture
async def target(mongo: MongoStore, db_name: str) -> AsyncIterator[AsyncDatabase[Any]]:
    name = f"{db_name}_restored"
    yield mongo.client.get_database(name)
    await mongo.client.drop_database(name)


@pytest.fixture
async def populated(mongo: MongoStore) -> list[str]:
    ids = await populate(InboxStore(mongo), 5, 4)
    await mongo.collection("odd_types").insert_many(
        [
            {
                "_id": ObjectId(),
                "i64": Int64(7),
                "i32": 7,
                "f": 7.0,
                "dec": Decimal128(Decimal("1.10")),
            },
            {
                "_id": 2,
                "bin": Binary(b"\x00\x01", 4),
                "nested": {"a": [1, {"b": [2, 3]}]},
                "when": utcnow(),
            },
        ]
    )
    return ids


async def change_a_little(mongo: MongoStore, ids: list[str], tag: str) -> None:
    """Inserts, sets, unsets, array truncation, replacement and deletes across collections."""
    conversations, messages = mongo.collection("conversations"), mongo.collection("messages")
    await populate(InboxStore(mongo), 1, 2, tag=tag)
    await conversations.update_one(
        {"_id": ids[0]},
        {"$set": {"status": "open", "labels": ["a", "b", "c"]}, "$unset": {"route": ""}},
    )
    await conversations.update_one({"_id": ids[0]}, {"$pop": {"labels": 1}})
    await messages.delete_one({"conversation_id": ids[1]})
    await mongo.collection("odd_types").replace_one(
        {"_id": 2}, {"replaced": tag, "n": Int64(2**40)}
    )
    await mongo.collection(f"new_{tag}").insert_one({"_id": tag})


async def next_millisecond() -> None:
    """Wait (by polling the clock) until the current millisecond is over, so times split."""
    start = utcnow().replace(microsecond=utcnow().microsecond // 1000 * 1000)

    async def later() -> bool:
        return utcnow() >= start + timedelta(milliseconds=1)

    await wait_for(later)


async def test_full_plus_incrementals_restore_to_a_point_in_time(
    mongo: MongoStore, archive_store: ArchiveStore, target: AsyncDatabase[Any], populated: list[str]
) -> None:
    service = BackupService(mongo.db, archive_store)
    full = await service.full()
    await change_a_little(mongo, populated, "one")
    first = await service.incremental()
    await change_a_little(mongo, populated[1:], "two")
    await next_millisecond()
    until = utcnow()
    at_until = await digests(mongo.db)
    await next_millisecond()
    await change_a_little(mongo, populated[2:], "three")
    second = await service.incremental()

    result = await service.restore(target, second["id"], until)

    assert result.backups == [full["id"], first["id"], second["id"]]
    assert result.verified_against == first["id"] and result.ok
    assert result.changes_after_verification > 0
    assert await digests(target) == at_until


async def test_a_full_backup_restores_with_identical_digests(
    mongo: MongoStore, archive_store: ArchiveStore, target: AsyncDatabase[Any], populated: list[str]
) -> None:
    service = BackupService(mongo.db, archive_store)
    source = await digests(mongo.db)
    full = await service.full()

    result = await service.restore(target, full["id"])

    assert result.ok and result.verified_against == full["id"]
    assert all(entry["ok"] for entry in result.collections.values())
    assert await digests(target) == source
    assert set(source) >= {"contacts", "conversations", "messages", "odd_types"}
    indexes = {i["name"] async for i in await target["messages"].list_indexes()}
    assert "channel_external_id_unique" in indexes


async def test_writes_during_a_full_backup_are_caught_by_its_changes(
    mongo: MongoStore, archive_store: ArchiveStore, target: AsyncDatabase[Any], populated: list[str]
) -> None:
    service = BackupService(mongo.db, archive_store)
    stop = asyncio.Event()

    async def writer() -> None:
        n = 0
        while not stop.is_set():
            await mongo.collection("busy").insert_one({"_id": n})
            await mongo.collection("conversations").update_one(
                {"_id": populated[n % 5]}, {"$inc": {"n": 1}}
            )
            n += 1

    task = asyncio.create_task(writer())
    full = await service.full()
    stop.set()
    await task
    latest = await service.incremental()

    result = await service.restore(target, latest["id"])

    assert result.ok
    assert await digests(target) == await digests(mongo.db)
    assert full["changes"], "the writer ran while the dump did"


async def test_restore_needs_an_empty_database_and_intact_objects(
    mongo: MongoStore, archive_store: ArchiveStore, target: AsyncDatabase[Any], populated: list[str]
) -> None:
    service = BackupService(mongo.db, archive_store)
    full = await service.full()
    await target["stray"].insert_one({"_id": 1})
    with pytest.raises(BackupError, match="not empty"):
        await service.restore(target, full["id"])
    await target["stray"].drop()

    corrupt(archive_store, full["collections"]["messages"]["objects"][0]["key"])
    with pytest.raises(ChecksumMismatch):
        await service.restore(target, full["id"])


async def test_an_incremental_needs_a_full_backup_first(
    mongo: MongoStore, archive_store: ArchiveStore
) -> None:
    with pytest.raises(BackupError, match="full backup first"):
        await BackupService(mongo.db, archive_store).incremental()
    with pytest.raises(BackupError, match="not found"):
        await BackupService(mongo.db, archive_store).restore(mongo.db, "missing")
