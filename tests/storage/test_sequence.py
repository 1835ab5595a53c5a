"""Message sequence numbers: dense, unique and in commit order, whoever writes."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from pymongo import monitoring

from hub.domain import Author, InboundMessage, Message, new_id, utcnow
from storage.inbox import InboxStore
from storage.ingest import InboundWriter
from storage.mongo import MongoStore, make_client
from storage.sequence import WINDOW, page_after


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def stores(mongo_uri: str, db_name: str, db: Any) -> Any:
    """Two inbox stores on one database, each with its own client: two hub instances."""
    counter = CommandCounter()
    first = MongoStore(make_client(mongo_uri, event_listeners=[counter]), db_name)
    second = MongoStore(make_client(mongo_uri), db_name)
    await first.ensure_indexes()
    yield InboxStore(first), InboxStore(second), counter
    await first.close()
    await second.close()


def reply(conversation_id: str, text: str, external_id: str | None = None) -> Message:
    message_id = new_id()
    return Message(
        id=message_id,
        conversation_id=conversation_id,
        contact_id="contact-1",
        channel="web",
        external_id=external_id or f"out:{conversation_id}:{message_id}",
        direction="outbound",
        author=Author(kind="agent", id="bo"),
        text=text,
        created_at=utcnow(),
    )


async def seqs(db: Any, conversation_id: str) -> list[int]:
    docs = await db.messages.find({"conversation_id": conversation_id}).sort("seq", 1).to_list()
    return [doc["seq"] for doc in docs]


async def test_two_instances_writing_at_once_number_a_conversation_densely(stores, db) -> None:
    a, b, _ = stores
    writes = [(a if n % 2 else b).insert_message(reply("c1", f"r{n}")) for n in range(60)]
    results = await asyncio.gather(*writes)
    assert [dup for _, dup in results] == [False] * 60
    assert await seqs(db, "c1") == list(range(1, 61))
    assert sorted(m.seq or 0 for m, _ in results) == list(range(1, 61))


async def test_a_duplicate_in_a_batch_leaves_no_hole(stores, db) -> None:
    a, _, _ = stores
    first, _ = await a.insert_message(reply("c1", "one", external_id="k1"))
    batch = [reply("c1", "two"), reply("c1", "one again", external_id="k1"), reply("c1", "three")]
    stored, duplicate = await a.sequence.insert(batch)
    assert duplicate == [False, True, False]
    assert stored[1].id == first.id
    assert [m.text for m in stored] == ["two", "one", "three"]
    assert await seqs(db, "c1") == [1, 2, 3]


async def test_an_instance_far_behind_learns_the_top_in_bounded_reads(stores, db) -> None:
    a, b, _ = stores
    await b.insert_message(reply("c1", "seen by a"))
    await a.insert_message(reply("c1", "a knows 2"))
    for n in range(WINDOW + 10):  # b writes far past what a has seen
        await b.insert_message(reply("c1", f"b{n}"))
    stored, _ = await a.insert_message(reply("c1", "late"))
    assert stored.seq == WINDOW + 13
    assert await seqs(db, "c1") == list(range(1, WINDOW + 14))


async def test_group_commit_numbers_messages_with_one_insert_per_batch(stores, db) -> None:
    a, _, counter = stores
    writer = InboundWriter(a, max_batch=64)
    sends = [
        InboundMessage(
            channel="web",
            external_id=f"v{v}:{n}",
            sender_id=f"v{v}",
            thread_key=f"v{v}",
            text=f"message {n}",
        )
        for n in range(5)
        for v in range(40)
    ]
    counter.commands.clear()
    results = await asyncio.gather(*(writer.store_one(i) for i in sends))
    await writer.close()
    assert counter.commands["insert"] == writer.batches < len(sends)
    for conversation_id in {r.conversation.id for r in results}:
        assert await seqs(db, conversation_id) == [1, 2, 3, 4, 5]


async def test_history_reads_past_a_full_window_without_missing_one(stores) -> None:
    a, _, _ = stores
    await a.sequence.insert([reply("c1", f"r{n}") for n in range(WINDOW + 44)])
    page = await page_after(a.sequence, [("c1", 0)], limit=1000)
    assert [m.seq for m in page.messages] == list(range(1, WINDOW + 45))
    assert (page.positions, page.more) == ({"c1": WINDOW + 44}, False)
    gap = await a.sequence.between("c1", WINDOW - 1, WINDOW + 2)  # bounds on both sides
    assert [m.seq for m in gap] == [WINDOW, WINDOW + 1]
