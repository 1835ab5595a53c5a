"""The inbox's storage: group commit, dedupe under concurrency, and index-served queries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import monitoring

from hub.domain import InboundMessage
from storage.filters import ConversationFilter, MessageFilter
from storage.inbox import InboxStore, encode_cursor
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
    items, _ = await store.list_conversations(ConversationFilter(), 10, None)
    assert [c.id for c in items] == [first.conversation.id, later.conversation.id]


def _stages(plan: dict[str, Any]) -> list[str]:
    stages = [plan["stage"]]
    for key in ("inputStage", "queryPlan"):
        if key in plan:
            stages += _stages(plan[key])
    for child in plan.get("inputStages", []):
        stages += _stages(child)
    return stages


class QueryRecorder(monitoring.CommandListener):
    """Every query command the store sends, as sent (pymongo command monitoring)."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in QUERY_FIELDS:
            self.commands.append(dict(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


# The fields of each query command that shape its plan (the rest is session and wire detail).
QUERY_FIELDS = {
    "find": ("find", "filter", "sort", "limit", "projection"),
    "findAndModify": ("findAndModify", "query", "sort", "update", "upsert", "new", "fields"),
}


def _explainable(command: dict[str, Any]) -> dict[str, Any]:
    name = next(iter(command))
    return {k: command[k] for k in QUERY_FIELDS[name] if k in command}


def _bound(query: dict[str, Any], field: str, operator: str) -> bool:
    condition = query.get(field)
    return isinstance(condition, dict) and operator in condition


def _filter_of(command: dict[str, Any]) -> dict[str, Any]:
    return command.get("filter") or command.get("query") or {}


async def test_the_stores_own_queries_are_served_by_indexes(mongo_uri, db_name, db) -> None:
    recorder = QueryRecorder()
    mongo = MongoStore(make_client(mongo_uri, event_listeners=[recorder]), db_name)
    await mongo.ensure_indexes()
    store = InboxStore(mongo)
    try:
        writer = InboundWriter(store)
        results = [await writer.store_one(_inbound(f"v{n % 4}", n)) for n in range(20)]
        await writer.close()
        conversation_id = results[0].conversation.id
        # Every listing the API pages through, first page and the next (cursor) page.
        page_2 = encode_cursor({"t": datetime.now(UTC), "id": "~"})  # for filters with few
        for filters in (
            ConversationFilter(),
            ConversationFilter(status="open"),
            ConversationFilter(assignee="bo"),
        ):
            _, cursor = await store.list_conversations(filters, 1, None)
            await store.list_conversations(filters, 1, cursor or page_2)
        for message_filter in (
            MessageFilter(conversation_id=conversation_id),
            MessageFilter(channels=frozenset({"web"})),
        ):
            _, cursor = await store.list_messages(message_filter, 2, None)
            assert cursor is not None
            await store.list_messages(message_filter, 2, cursor)
        await store.find_contact("web", "v1")
        await store.insert_message(results[1].message)  # a retry: found by external id
    finally:
        await mongo.close()

    sent = [_explainable(c) for c in recorder.commands]
    filters = [_filter_of(c) for c in sent]
    # The shapes that matter are among what was sent: page 2 of conversations (after the
    # cursor's instant and id), page 2 of messages (_id $gt), the dedupe and identity lookups.
    assert any(_bound(f, "_id", "$lt") and "last_message_at" in f for f in filters), filters
    assert any(_bound(f, "last_message_at", "$lt") for f in filters), filters
    assert any(_bound(f, "_id", "$gt") for f in filters), filters
    assert any("external_id" in f for f in filters), filters
    assert any("identity_keys" in f for f in filters), filters
    assert any("open_key" in f for f in filters), filters
    for command in sent:
        explained = await db.command({"explain": command, "verbosity": "queryPlanner"})
        stages = _stages(explained["queryPlanner"]["winningPlan"])
        assert "IXSCAN" in stages and "COLLSCAN" not in stages, (command, stages)


async def test_paging_conversations_one_at_a_time_gives_the_whole_list_in_order(store, db) -> None:
    writer = InboundWriter(store)
    for n in range(6):
        await writer.store_one(_inbound(f"v{n}", n))
    await writer.close()
    # Three conversations at one instant: the cursor's id decides within the instant.
    tied = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [doc["_id"] async for doc in db.conversations.find({}).limit(3)]
    await db.conversations.update_many({"_id": {"$in": ids}}, {"$set": {"last_message_at": tied}})
    whole, _ = await store.list_conversations(ConversationFilter(), 10, None)
    paged, cursor = await store.list_conversations(ConversationFilter(), 1, None)
    while cursor is not None:
        page, cursor = await store.list_conversations(ConversationFilter(), 1, cursor)
        paged += page
    assert [c.id for c in paged] == [c.id for c in whole]
    assert len(whole) == 6
