"""Archiving resolved conversations and restoring them, on both stores."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from hub.domain import utcnow
from storage.archive_store import ArchiveStore, ChecksumMismatch
from storage.archiver import ArchiveNotFound, Archiver, manifest_key
from storage.digest import RAW
from storage.inbox import InboxStore
from storage.mongo import MongoStore
from tests.helpers.storage import corrupt, populate

DAY = timedelta(days=1)


async def resolve(mongo: MongoStore, ids: list[str], days_ago: float) -> None:
    inbox = InboxStore(mongo)
    for conversation_id in ids:
        await inbox.update_conversation(conversation_id, {"status": "resolved"})
        await mongo.collection("conversations").update_one(
            {"_id": conversation_id}, {"$set": {"updated_at": utcnow() - days_ago * DAY}}
        )


async def raw_docs(mongo: MongoStore, name: str, query: dict[str, Any]) -> list[bytes]:
    coll = mongo.collection(name).with_options(codec_options=RAW)
    return [doc.raw async for doc in coll.find(query, sort=[("_id", 1)])]


async def snapshot(mongo: MongoStore, ids: list[str]) -> tuple[list[bytes], list[bytes]]:
    return (
        await raw_docs(mongo, "conversations", {"_id": {"$in": ids}}),
        await raw_docs(mongo, "messages", {"conversation_id": {"$in": ids}}),
    )


@pytest.fixture
async def inbox_with_old_conversations(mongo: MongoStore) -> dict[str, list[str]]:
    inbox = InboxStore(mongo)
    old = await populate(inbox, 4, 3)
    recent = await populate(inbox, 2, 2)
    still_open = await populate(inbox, 1, 2)
    await resolve(mongo, old, days_ago=40)
    await resolve(mongo, recent, days_ago=5)
    return {"old": old, "recent": recent, "open": still_open}


def archiver(mongo: MongoStore, store: ArchiveStore) -> Archiver:
    return Archiver(mongo, store, after_days=30, delete_after_archive=True)


async def test_archive_then_restore_gives_identical_documents(
    mongo: MongoStore,
    archive_store: ArchiveStore,
    inbox_with_old_conversations: dict[str, list[str]],
) -> None:
    old = inbox_with_old_conversations["old"]
    before = await snapshot(mongo, old)

    report = await archiver(mongo, archive_store).run()

    assert (report.conversations, report.messages) == (4, 12)
    manifest = json.loads(await archive_store.get(manifest_key(report.runs[0])))
    assert sum(o["conversations"] for o in manifest["objects"]) == 4
    for entry in manifest["objects"]:
        await archive_store.get(entry["key"], entry["sha256"])  # verifies the checksum
    assert await snapshot(mongo, old) == ([], [])
    kept = inbox_with_old_conversations["recent"] + inbox_with_old_conversations["open"]
    assert await mongo.collection("conversations").count_documents({"_id": {"$in": kept}}) == 3

    assert await archiver(mongo, archive_store).restore_conversation(old[0]) == (1, 3)
    restored = await snapshot(mongo, [old[0]])
    assert restored == ([before[0][0]], before[1][:3])

    start, end = utcnow() - 60 * DAY, utcnow()
    assert await archiver(mongo, archive_store).restore_range(start, end) == (4, 12)
    assert await snapshot(mongo, old) == before


async def test_a_rerun_archives_nothing_twice_and_keeps_restored_ones(
    mongo: MongoStore,
    archive_store: ArchiveStore,
    inbox_with_old_conversations: dict[str, list[str]],
) -> None:
    old = inbox_with_old_conversations["old"]
    await archiver(mongo, archive_store).run()
    await archiver(mongo, archive_store).restore_conversation(old[1])

    report = await archiver(mongo, archive_store).run()

    assert report.conversations == 0
    assert await mongo.collection("conversations").count_documents({"_id": old[1]}) == 1


async def test_a_crash_between_upload_and_delete_is_completed_by_a_rerun(
    mongo: MongoStore,
    archive_store: ArchiveStore,
    inbox_with_old_conversations: dict[str, list[str]],
) -> None:
    old = inbox_with_old_conversations["old"]
    before = await snapshot(mongo, old)

    class Crash(Exception):
        pass

    async def crash_after_upload(run_id: str, phase: str) -> None:
        if phase == "uploaded":
            raise Crash

    with pytest.raises(Crash):
        await archiver(mongo, archive_store).run(after_phase=crash_after_upload)
    # Uploaded but not yet marked: everything is still in MongoDB, untouched.
    assert await snapshot(mongo, old) == before
    run = await mongo.collection("archive_runs").find_one({})
    assert run is not None and run["phase"] == "uploaded"

    report = await archiver(mongo, archive_store).run()

    assert report.runs == [run["_id"]] and report.conversations == 4
    assert await snapshot(mongo, old) == ([], [])
    assert await mongo.collection("archive_runs").count_documents({"phase": "done"}) == 1
    await archiver(mongo, archive_store).restore_range(utcnow() - 60 * DAY, utcnow())
    assert await snapshot(mongo, old) == before


async def test_a_crash_during_upload_repeats_the_upload(
    mongo: MongoStore,
    archive_store: ArchiveStore,
    inbox_with_old_conversations: dict[str, list[str]],
) -> None:
    old = inbox_with_old_conversations["old"]

    async def crash_after_select(run_id: str, phase: str) -> None:
        if phase == "selected":
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        await archiver(mongo, archive_store).run(after_phase=crash_after_select)
    assert await archive_store.list("archive/") == []

    report = await archiver(mongo, archive_store).run()

    assert report.conversations == 4
    assert await mongo.collection("conversations").count_documents({"_id": {"$in": old}}) == 0


async def test_keeping_archived_conversations_marks_them_only(
    mongo: MongoStore,
    archive_store: ArchiveStore,
    inbox_with_old_conversations: dict[str, list[str]],
) -> None:
    old = inbox_with_old_conversations["old"]
    before = await snapshot(mongo, old)
    keeper = Archiver(mongo, archive_store, after_days=30, delete_after_archive=False)

    await keeper.run()

    marked = await mongo.collection("conversations").count_documents(
        {"archived.run_id": {"$exists": True}}
    )
    assert marked == 4
    await keeper.restore_range(utcnow() - 60 * DAY, utcnow())
    assert await snapshot(mongo, old) == before  # the marker is gone again


async def test_a_corrupted_archive_is_not_restored(
    mongo: MongoStore,
    archive_store: ArchiveStore,
    inbox_with_old_conversations: dict[str, list[str]],
) -> None:
    old = inbox_with_old_conversations["old"]
    report = await archiver(mongo, archive_store).run()
    corrupt(archive_store, report.objects[0].key)

    with pytest.raises(ChecksumMismatch):
        await archiver(mongo, archive_store).restore_conversation(old[0])
    assert await mongo.collection("conversations").count_documents({}) == 3


async def test_restoring_what_was_never_archived_is_an_error(
    mongo: MongoStore, archive_store: ArchiveStore
) -> None:
    with pytest.raises(ArchiveNotFound):
        await archiver(mongo, archive_store).restore_conversation("nope")
