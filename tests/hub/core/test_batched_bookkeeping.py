"""Bookkeeping writes that every new conversation or reply made one by one now share
commands: the bot's misses, the report times kept on conversations, and the forgetting of
webhook events nobody subscribed to."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from hub.bot.service import BOT
from hub.domain import Author, Identity
from hub.state import HUB
from hub.webhooks.events import WebhookEvents
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client
from storage.webhook_journal import OWED, OWED_AT, WebhookJournal, owed, owing
from storage.webhooks import WebhookStore
from tests.helpers.commands import COMMANDS
from tests.helpers.hub import settle

ALICE = Author(kind="agent", id="alice", name="Alice")


@pytest.fixture
async def mongo(mongo_uri: str, db_name: str, db: Any) -> Any:
    store = MongoStore(make_client(mongo_uri), db_name)
    await store.ensure_indexes()
    yield store
    await store.close()


async def _conversations(inbox: InboxStore, count: int) -> list[str]:
    ids = []
    for n in range(count):
        contact = await inbox.upsert_contact(
            Identity(channel="telegram", external_id=f"user-{n}"), f"User {n}"
        )
        conversation, _ = await inbox.open_conversation(
            contact.id, "telegram", f"t{n}", f"user-{n}", {}, status="open"
        )
        ids.append(conversation.id)
    return ids


async def test_misses_of_concurrent_turns_share_one_insert(client: Any, db: Any) -> None:
    store = client.app[BOT].store
    with COMMANDS.recording(db.name):
        await asyncio.gather(
            *(store.record_miss(f"c{n}", "web", f"question {n}?") for n in range(6))
        )
    assert COMMANDS.count("insert", "bot_misses") == 1, COMMANDS.commands
    assert sorted(d["text"] for d in await db.bot_misses.find().to_list()) == [
        f"question {n}?" for n in range(6)
    ]


def _first_reply_notes() -> int:
    return sum(
        1
        for name, target, command in COMMANDS.commands
        if name == "update"
        and target == "conversations"
        and "first_reply_at" in str(command.get("updates", ""))
    )


async def test_an_agents_later_replies_leave_the_first_reply_time_alone_unasked(
    client: Any, db: Any
) -> None:
    hub = client.app[HUB]
    (conversation_id,) = await _conversations(hub.store, 1)
    first = await hub.reply(conversation_id, ALICE, "hello")
    await settle(client)
    with COMMANDS.recording(db.name):
        for n in range(3):
            await hub.reply(conversation_id, ALICE, f"more {n}")
        await settle(client)
    assert _first_reply_notes() == 0, COMMANDS.commands
    doc = await db.conversations.find_one({"_id": conversation_id})
    assert abs(doc["first_reply_at"] - first.created_at) < timedelta(milliseconds=1)


async def test_owed_events_nobody_wants_are_forgotten_in_one_write_per_collection(
    mongo: Any, db: Any
) -> None:
    inbox = InboxStore(mongo)
    ids = await _conversations(inbox, 5)
    assert await db.conversations.count_documents({OWED_AT: {"$exists": True}}) == 5
    events = WebhookEvents(WebhookStore(mongo), WebhookJournal(mongo), wake=lambda: None)
    with COMMANDS.recording(db.name):
        seen = await events.reconcile()
    assert seen == 10  # five contacts and five conversations, each owing its birth
    assert COMMANDS.count("update", "conversations") == 1, COMMANDS.commands
    assert COMMANDS.count("update", "contacts") == 1
    for name in ("contacts", "conversations"):
        assert await db[name].count_documents({OWED_AT: {"$exists": True}}) == 0
    assert await db.conversations.count_documents({"_id": {"$in": ids}}) == 5


async def test_an_event_owed_after_the_read_outlives_the_settling_of_the_others(
    mongo: Any, db: Any
) -> None:
    inbox = InboxStore(mongo)
    ids = await _conversations(inbox, 3)
    journal = WebhookJournal(mongo)
    docs = await journal.owing("conversations", 10)
    later = owed("conversation.status_changed", status="resolved")
    await db.conversations.update_one({"_id": ids[1]}, owing([later]))
    await journal.settle_many(docs, "conversations")
    kept = await db.conversations.find_one({"_id": ids[1]})
    assert [entry["id"] for entry in kept[OWED]] == [later["id"]]
    assert kept[OWED_AT] is not None
    for other in (ids[0], ids[2]):
        doc = await db.conversations.find_one({"_id": other})
        assert OWED not in doc and OWED_AT not in doc
