"""The instance's change feed: one stream for every watcher, each watcher's events in
order, a reader that falls behind told once, and updates read together each showing the
state they left (not the one ``updateLookup`` reads later)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from storage.change_feed import ChangeFeed
from storage.changes import CursorExpired
from storage.inbox_stream import InboxStream
from storage.mongo import MongoStore
from tests.helpers.commands import COMMANDS


async def _take(events: Any, n: int) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        async for event in events:
            taken.append(event)
            if len(taken) == n:
                return taken
    return taken


async def test_watchers_share_one_stream_and_each_gets_only_its_events(mongo: MongoStore) -> None:
    feed = ChangeFeed(mongo)
    with COMMANDS.recording(mongo.db.name) as commands:
        messages = feed.subscribe({"messages": ("insert",)})
        signals = feed.subscribe({"presence_signals": ("insert",)})
        await messages.open()
        await signals.open()
        await mongo.collection("messages").insert_one(_message("m1"))
        await mongo.collection("presence_signals").insert_one({"_id": "p1"})
        await mongo.collection("messages").insert_one(_message("m2"))
        got_messages = await _take(messages.events(), 2)
        got_signals = await _take(signals.events(), 1)
    await feed.close()
    assert [e["documentKey"]["_id"] for e in got_messages] == ["m1", "m2"]
    assert [e["documentKey"]["_id"] for e in got_signals] == ["p1"]
    streams = [
        c for n, _, c in commands if n == "aggregate" and "$changeStream" in c["pipeline"][0]
    ]
    assert len(streams) == 1


def test_a_subscription_outside_what_the_feed_watches_is_refused(mongo: MongoStore) -> None:
    with pytest.raises(ValueError, match="does not watch"):
        ChangeFeed(mongo).subscribe({"agents": ("insert",)})


async def test_a_reader_that_falls_behind_is_told_once_then_reads_on(mongo: MongoStore) -> None:
    feed = ChangeFeed(mongo, backlog=3)
    slow = feed.subscribe({"messages": ("insert",)})
    keeping_up = feed.subscribe({"messages": ("insert",)})
    await slow.open()
    await keeping_up.open()
    for n in range(5):  # one at a time, each read by the watcher that keeps up
        await mongo.collection("messages").insert_one(_message(f"m{n}"))
        [event] = await _take(keeping_up.events(), 1)
        assert event["documentKey"]["_id"] == f"m{n}"
    assert await _take(slow.events(), 5) == []  # ended: it fell behind
    with pytest.raises(CursorExpired):
        await slow.reopen()
    await slow.reopen()  # told once
    await mongo.collection("messages").insert_one(_message("after"))
    [event] = await _take(slow.events(), 1)
    await feed.close()
    assert event["documentKey"]["_id"] == "after"


async def test_after_an_outage_the_feed_resumes_where_it_stopped(mongo: MongoStore) -> None:
    feed = ChangeFeed(mongo)
    watcher = feed.subscribe({"messages": ("insert",)})
    await watcher.open()
    await mongo.collection("messages").insert_one(_message("before"))
    assert len(await _take(watcher.events(), 1)) == 1
    await feed.close()  # nothing reads while these are written
    await mongo.collection("messages").insert_many([_message("during-1"), _message("during-2")])
    await watcher.reopen()
    got = await _take(watcher.events(), 2)
    await feed.close()
    assert [e["documentKey"]["_id"] for e in got] == ["during-1", "during-2"]


async def test_two_updates_read_in_one_batch_each_carry_their_own_state(
    mongo: MongoStore,
) -> None:
    conversations = mongo.collection("conversations")
    feed = ChangeFeed(mongo)
    stream = InboxStream(feed)
    await stream.open()
    await conversations.insert_one(_conversation("c1"))
    changes = stream.changes()
    inserted = await anext(changes)
    assert inserted.op == "insert"
    await feed.close()  # both updates below arrive in the batch that resumes
    await conversations.update_one({"_id": "c1"}, {"$set": {"status": "open"}})
    await conversations.update_one(
        {"_id": "c1"}, {"$set": {"assignee": "agent-bo", "labels": ["vip", "refund"]}}
    )
    await conversations.update_one({"_id": "c1"}, {"$pop": {"labels": 1}})
    await stream.reopen()
    got = await _take(stream.changes(), 3)
    await feed.close()
    shown = [(c.conversation.status, c.conversation.assignee, c.conversation.labels) for c in got]
    assert shown == [
        ("open", None, ()),
        ("open", "agent-bo", ("vip", "refund")),
        ("open", "agent-bo", ("vip",)),
    ]
    assert [sorted(c.fields) for c in got] == [["status"], ["assignee", "labels"], ["labels"]]


def _conversation(cid: str) -> dict[str, Any]:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return {
        "_id": cid,
        "contact_id": "contact-1",
        "channel": "web",
        "thread_key": "t1",
        "recipient_id": "v1",
        "status": "bot",
        "assignee": None,
        "labels": [],
        "route": {},
        "created_at": now,
        "updated_at": now,
        "last_message_at": now,
    }


def _message(mid: str) -> dict[str, Any]:
    return {"_id": mid, "channel": "web", "external_id": mid}
