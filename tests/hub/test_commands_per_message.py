"""What one message costs the database, counted with pymongo command monitoring.

Events carry the conversation as stored, so listeners do not read it again; a handed-off
conversation costs the bot nothing; replies and deliveries share their commands.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import monitoring

from hub.config import ChorusConfig
from hub.domain import (
    Author,
    Conversation,
    DeliveryResult,
    Identity,
    Message,
    OutboundMessage,
    utcnow,
)
from hub.outbox import Outbox
from hub.state import HUB
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client
from storage.outbox import OutboxStore
from tests.helpers.hub import settle, wait_for
from tests.hub.bot.conftest import SAMPLE_KB, chatting

QUESTION = "What are your opening hours?"


class CommandLog(monitoring.CommandListener):
    """Commands sent to one database while recording (registered once for the run)."""

    def __init__(self) -> None:
        self.database: str | None = None
        self.commands: list[tuple[str, str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.database is None or event.database_name != self.database:
            return
        name = event.command_name
        target = event.command.get(name)
        self.commands.append((name, target if isinstance(target, str) else "", event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextlib.contextmanager
    def recording(self, database: str) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
        self.commands, self.database = [], database
        try:
            yield self.commands
        finally:
            self.database = None

    def reads_by_id(self, collection: str) -> int:
        return sum(
            1
            for name, target, command in self.commands
            if name == "find" and target == collection and "_id" in command.get("filter", {})
        )

    def count(self, name: str, collection: str) -> int:
        return sum(1 for n, t, _ in self.commands if n == name and t == collection)


COMMANDS = CommandLog()
monitoring.register(COMMANDS)  # clients made after this (every test's hub) report to it


@pytest.fixture
def config(config: ChorusConfig) -> ChorusConfig:
    config.bot.enabled = True
    config.bot.knowledge_files = [SAMPLE_KB]
    return config


async def test_a_handed_off_message_reads_neither_conversation_nor_bot_session(
    client: Any, db_name: str
) -> None:
    async with chatting(client) as customer:
        await customer.say("I want to talk to an agent")
        await customer.hear()  # the handoff message
        await settle(client)
        with COMMANDS.recording(db_name):
            for n in range(5):
                await customer.say(f"still there? {n}")
            await settle(client)
    assert COMMANDS.reads_by_id("conversations") == 0
    assert COMMANDS.count("find", "bot_sessions") == 0
    assert COMMANDS.count("update", "bot_sessions") == 0


async def test_a_bot_turn_reads_nothing_again_and_its_reply_shares_commands(
    client: Any, db_name: str
) -> None:
    async with chatting(client) as customer:
        await customer.say(QUESTION)
        await customer.hear()
        await settle(client)
        with COMMANDS.recording(db_name):
            for _ in range(3):
                await customer.say(QUESTION)
                assert "Monday to Friday" in (await customer.hear())["text"]
            await settle(client)
    assert COMMANDS.reads_by_id("conversations") == 0, COMMANDS.commands
    assert COMMANDS.count("find", "bot_sessions") == 0
    # The same answer leaves the session as it was: it is not written again.
    assert COMMANDS.count("update", "bot_sessions") == 0
    assert COMMANDS.count("update", "conversations") <= 1  # the bulk recency refresh
    assert COMMANDS.count("findAndModify", "messages") == 0  # claims go in batches


class _Channel:
    """A fake adapter: sends wait on ``gate`` (when set) and are recorded."""

    def __init__(self, channel: str, gate: asyncio.Event | None = None) -> None:
        self.channel = channel
        self.gate = gate
        self.started: list[str] = []

    async def send(self, outbound: OutboundMessage) -> DeliveryResult:
        self.started.append(outbound.message_id)
        if self.gate is not None:
            await self.gate.wait()
        return DeliveryResult.sent(f"p-{outbound.message_id}")


async def _pending_reply(store: InboxStore, conversation: Conversation, n: int) -> Message:
    now = utcnow()
    message = Message.model_validate(
        {
            "id": f"m-{conversation.channel}-{n}",
            "conversation_id": conversation.id,
            "contact_id": conversation.contact_id,
            "channel": conversation.channel,
            "external_id": f"out:{conversation.id}:{n}",
            "direction": "outbound",
            "author": Author(kind="agent", id="alice", name="Alice"),
            "text": f"reply {n}",
            "created_at": now,
            "delivery": {"status": "pending", "next_attempt_at": now},
        }
    )
    stored, _ = await store.sequence.insert([message])
    return stored[0]


async def _conversation(store: InboxStore, channel: str) -> Conversation:
    contact = await store.upsert_contact(
        Identity(channel=channel, external_id=f"{channel}-user"),  # type: ignore[arg-type]
        "Ada",
    )
    conversation, _ = await store.open_conversation(
        contact.id, channel, "t", f"{channel}-user", {}, status="open"
    )
    return conversation


@pytest.fixture
async def stores(mongo_uri: str, db_name: str, db: Any) -> Any:
    mongo = MongoStore(make_client(mongo_uri), db_name)
    await mongo.ensure_indexes()
    yield InboxStore(mongo), OutboxStore(mongo)
    await mongo.close()


async def test_a_slow_channel_does_not_hold_up_another(stores: Any, config: ChorusConfig) -> None:
    inbox, outbox_store = stores
    gate = asyncio.Event()
    slow, fast = _Channel("telegram", gate), _Channel("slack")
    outbox = Outbox(outbox_store, inbox, config.outbox)
    outbox.start({"telegram": slow, "slack": fast})  # type: ignore[dict-item]
    try:
        held = await _pending_reply(inbox, await _conversation(inbox, "telegram"), 1)
        outbox.wake()
        await wait_for(lambda: _true(held.id in slow.started))
        later = await _pending_reply(inbox, await _conversation(inbox, "slack"), 2)
        outbox.wake()
        # Sent while the first channel's send is still under way.
        await wait_for(lambda: _status(inbox, later.id, "sent"))
        assert not gate.is_set()
    finally:
        gate.set()
        await outbox.stop()
    assert await _status(inbox, held.id, "sent")


async def test_replies_are_claimed_and_completed_in_batches(
    stores: Any, config: ChorusConfig, db_name: str
) -> None:
    inbox, outbox_store = stores
    web = _Channel("telegram")
    conversation = await _conversation(inbox, "telegram")
    replies = [await _pending_reply(inbox, conversation, n) for n in range(20)]
    outbox = Outbox(outbox_store, inbox, config.outbox)
    with COMMANDS.recording(db_name):
        outbox.start({"telegram": web})  # type: ignore[dict-item]
        try:
            for reply in replies:
                await wait_for(lambda r=reply: _status(inbox, r.id, "sent"))  # type: ignore[misc]
        finally:
            await outbox.stop()
        commands = list(COMMANDS.commands)
    writes = [c for c in commands if c[0] in {"update", "findAndModify"} and c[1] == "messages"]
    assert len(writes) <= 4, [c[:2] for c in commands]  # one claim, a few bulk completions
    assert COMMANDS.reads_by_id("conversations") <= 1


async def _true(value: bool) -> bool:
    return value


async def _status(inbox: InboxStore, message_id: str, status: str) -> bool:
    doc = await inbox.messages.find_one({"_id": message_id})
    return bool(doc and doc["delivery"]["status"] == status)


async def test_the_hub_keeps_the_session_on_the_conversation(client: Any, db: Any) -> None:
    async with chatting(client) as customer:
        ack = await customer.say(QUESTION)
        await customer.hear()
    await settle(client)
    message = await db.messages.find_one({"_id": ack["id"]})
    conversation = await db.conversations.find_one({"_id": message["conversation_id"]})
    assert conversation["bot"]["greeted"] is True
    assert await db.bot_sessions.count_documents({}) == 0
    assert client.app[HUB].replies.items >= 1  # the bot's reply went through group commit
