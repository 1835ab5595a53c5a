"""Keyset pages: every match once, in order, and each page bounded to about a page.

The embedded server reads every match of a query before applying its limit, so what a
page costs there is what ``explain`` (``executionStats``) counts for each query sent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from bench.harness import FindRecorder, message_doc
from storage.filters import ConversationFilter, MessageFilter
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client
from storage.paging import by_id


@pytest.fixture
async def paged(mongo_uri: str, db_name: str, db: Any) -> Any:
    finds = FindRecorder("conversations")
    mongo = MongoStore(make_client(mongo_uri, event_listeners=[finds]), db_name)
    await mongo.ensure_indexes()
    yield mongo, InboxStore(mongo), finds
    await mongo.close()


def _conversation(n: int, at: datetime, status: str = "open") -> dict[str, Any]:
    return {
        "_id": f"c{n:05d}",
        "contact_id": f"k{n}",
        "channel": "web",
        "thread_key": f"t{n}",
        "recipient_id": f"r{n}",
        "status": status,
        "assignee": None,
        "labels": [],
        "route": {},
        "created_at": at,
        "updated_at": at,
        "last_message_at": at,
    }


async def _all_pages(store: InboxStore, filters: ConversationFilter, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(1000):
        items, cursor = await store.list_conversations(filters, limit, cursor)
        seen += [item.id for item in items]
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


async def test_pages_cover_every_match_once_newest_first(paged) -> None:
    mongo, store, _ = paged
    now = datetime.now(UTC).replace(microsecond=0)
    # Bursts sharing one instant, gaps of seconds to weeks, statuses mixed.
    offsets = [0, 0, 0, 1, 2, 2, 60, 61, 3600, 3600, 86400, 86401, 14 * 86400, 400 * 86400]
    docs = []
    for n in range(140):
        at = now - timedelta(seconds=offsets[n % len(offsets)] + (n // len(offsets)) * 97)
        docs.append(_conversation(n, at, "open" if n % 3 else "bot"))
    await mongo.collection("conversations").insert_many(docs)
    opened = [d for d in docs if d["status"] == "open"]

    def newest_first(rows: list[dict[str, Any]]) -> list[str]:
        rows = sorted(rows, key=lambda d: (d["last_message_at"], d["_id"]), reverse=True)
        return [d["_id"] for d in rows]

    for limit in (1, 4, 7, 50):
        for _ in range(2):  # without and then with the remembered band
            assert await _all_pages(
                store, ConversationFilter(status="open"), limit
            ) == newest_first(opened)
            assert await _all_pages(store, ConversationFilter(), limit) == newest_first(docs)
    # A time range, its lower end on a stored instant: that document is in.
    since, until = now - timedelta(seconds=3600), now - timedelta(seconds=1)
    inside = [d for d in opened if since <= d["last_message_at"] < until]
    assert any(d["last_message_at"] == since for d in inside)
    got = await _all_pages(store, ConversationFilter(status="open", since=since, until=until), 3)
    assert got == newest_first(inside)


async def test_a_page_examines_about_a_page_of_documents(paged) -> None:
    mongo, store, finds = paged
    now = datetime.now(UTC)
    docs = [_conversation(n, now - timedelta(minutes=n + 1)) for n in range(600)]
    docs += [_conversation(1000 + n, now - timedelta(minutes=n), "bot") for n in range(600)]
    await mongo.collection("conversations").insert_many(docs)
    limit = 20
    items, cursor = await store.list_conversations(ConversationFilter(status="open"), limit, None)
    assert len(items) == limit and cursor is not None
    cold, _ = await finds.examined(mongo.db)
    items, cursor = await store.list_conversations(ConversationFilter(status="open"), limit, None)
    warm, _ = await finds.examined(mongo.db)
    items, _ = await store.list_conversations(ConversationFilter(status="open"), limit, cursor)
    after, _ = await finds.examined(mongo.db)
    assert max(cold, warm, after) <= 2 * (limit + 1), (cold, warm, after)
    assert items[0].id == "c00020"


def _message(n: int, at: datetime) -> dict[str, Any]:
    message_id = str(ObjectId.from_datetime(at))[:16] + f"{n:08x}"
    return message_doc(message_id, "x", "k", f"e{n}", f"message {n}", at)


async def test_id_pages_cover_every_match_once_either_way(paged) -> None:
    mongo, _, _ = paged
    now = datetime.now(UTC)
    gaps = [0, 0, 1, 59, 3600, 86400 * 30, 86400 * 900]
    docs = [_message(n, now - timedelta(seconds=gaps[n % 7] + n)) for n in range(60)]
    await mongo.collection("messages").insert_many(docs)
    ids = sorted(d["_id"] for d in docs)
    for descending in (False, True):
        seen: list[str] = []
        cursor = None
        while True:
            page, cursor = await by_id(
                mongo.collection("messages"), {}, 4, cursor, descending=descending
            )
            seen += [d["_id"] for d in page]
            if cursor is None:
                break
        assert seen == (ids[::-1] if descending else ids)


async def test_an_id_page_after_a_cursor_examines_about_a_page(mongo_uri, db_name, db) -> None:
    finds = FindRecorder("messages")
    mongo = MongoStore(make_client(mongo_uri, event_listeners=[finds]), db_name)
    await mongo.ensure_indexes()
    try:
        now = datetime.now(UTC)
        docs = [_message(n, now - timedelta(minutes=600 - n)) for n in range(600)]
        await mongo.collection("messages").insert_many(docs)
        store = InboxStore(mongo)
        limit = 20
        items, cursor = await store.list_messages(MessageFilter(conversation_id="x"), limit, None)
        finds.sent.clear()
        items, cursor = await store.list_messages(MessageFilter(conversation_id="x"), limit, cursor)
        assert [m.id for m in items] == [d["_id"] for d in docs[limit : 2 * limit]]
        examined, _ = await finds.examined(mongo.db)
        assert examined <= 2 * (limit + 1)
    finally:
        await mongo.close()
