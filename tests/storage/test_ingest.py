"""The inbox's storage: group commit, dedupe under concurrency, and index-served queries."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.domain import InboundMessage
from storage.inbox import InboxStore
from storage.ingest import InboundWriter
from storage.mongo import MongoStore, make_client


@pytest.fixture
async def store(mongo_uri: str, db_name: str, db: Any) -> Any:
    mongo = MongoStore(make_client(mongo_uri), db_name)
    await mongo.ensure_indexes()
    yield InboxStore(mongo)
    await mongo.close()


def _inbound(visitor: str, n: int, **extra: Any) -> InboundMessage:
    return InboundMessage(
        channel="web",
        external_id=f"{visitor}:{n}",
        sender_id=visitor,
        thread_key=visitor,
        text=f"message {n}",
        **extra,
    )


async def test_concurrent_messages_share_batches_and_each_is_stored_once(store, db) -> None:
    writer = InboundWriter(store, max_batch=64)
    visitors = [f"v{i}" for i in range(40)]
    # Every message is sent twice at once, as a platform retry racing the original would be.
    sends = [_inbound(v, n) for v in visitors for n in range(5)] * 2
    results = await asyncio.gather(*(writer.store_one(i) for i in sends))
    await writer.close()

    assert await db.messages.count_documents({}) == 200
    assert await db.contacts.count_documents({}) == 40
    assert await db.conversations.count_documents({}) == 40
    assert sum(r.duplicate for r in results) == 200
    by_key: dict[str, set[str]] = {}
    for inbound, result in zip(sends, results, strict=True):
        by_key.setdefault(inbound.external_id, set()).add(result.message.id)
    assert all(len(ids) == 1 for ids in by_key.values())
    assert writer.batches < len(sends)  # writes were shared, not one per message


async def test_new_conversation_is_reported_once(store) -> None:
    writer = InboundWriter(store)
    first = await writer.store_one(_inbound("ada", 1))
    second = await writer.store_one(_inbound("ada", 2))
    await writer.close()
    assert first.new_conversation and not second.new_conversation
    assert first.conversation.id == second.conversation.id


async def test_display_name_follows_the_platform(store, db) -> None:
    writer = InboundWriter(store)
    await writer.store_one(_inbound("ada", 1, sender_name="Ada"))
    await writer.store_one(_inbound("ada", 2, sender_name="Ada L."))
    await writer.store_one(_inbound("ada", 3))
    await writer.close()
    contact = await db.contacts.find_one({})
    assert contact["name"] == "Ada L."


async def test_recency_is_refreshed_after_the_batch(store, db) -> None:
    writer = InboundWriter(store, touch_interval=0.01)
    first = await writer.store_one(_inbound("ada", 1))
    later = await writer.store_one(_inbound("bob", 1))
    await writer.store_one(_inbound("ada", 2))
    await writer.close()  # flushes pending recency updates
    items, _ = await store.list_conversations({}, 10, None)
    assert [c.id for c in items] == [first.conversation.id, later.conversation.id]


def _stages(plan: dict[str, Any]) -> list[str]:
    stages = [plan["stage"]]
    for key in ("inputStage", "queryPlan"):
        if key in plan:
            stages += _stages(plan[key])
    for child in plan.get("inputStages", []):
        stages += _stages(child)
    return stages


@pytest.mark.parametrize(
    ("collection", "query", "sort"),
    [
        ("conversations", {}, [("last_message_at", -1), ("_id", -1)]),
        ("conversations", {"status": "open"}, [("last_message_at", -1), ("_id", -1)]),
        ("conversations", {"assignee": "bo"}, [("last_message_at", -1), ("_id", -1)]),
        ("messages", {"conversation_id": "c1", "_id": {"$gt": "0"}}, [("_id", 1)]),
        ("messages", {"channel": "web", "_id": {"$gt": "0"}}, [("_id", 1)]),
        ("messages", {"channel": "web", "external_id": "x"}, None),
        ("contacts", {"identity_keys": "web:v1"}, None),
        ("conversations", {"open_key": "k"}, None),
    ],
)
async def test_listing_and_lookups_are_served_by_indexes(
    store, db, collection, query, sort
) -> None:
    writer = InboundWriter(store)
    for n in range(20):
        await writer.store_one(_inbound(f"v{n % 4}", n))
    await writer.close()
    cursor = db[collection].find(query)
    if sort:
        cursor = cursor.sort(sort)
    plan = (await cursor.limit(50).explain())["queryPlanner"]["winningPlan"]
    stages = _stages(plan)
    assert "IXSCAN" in stages and "COLLSCAN" not in stages, stages
