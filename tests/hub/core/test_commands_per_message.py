"""What one message costs the database, counted with pymongo command monitoring.

Events carry the conversation as stored, so listeners do not read it again; a handed-off
conversation costs the bot nothing; replies and deliveries share their commands.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.bot.service import BOT, ROUTER
from hub.config.model import ChorusConfig
from hub.core.outbox import Outbox
from hub.domain import (
    Author,
    Conversation,
    DeliveryResult,
    Identity,
    InboundMessage,
    Message,
    OutboundMessage,
    utcnow,
)
from hub.errors import NotFound
from hub.routing.states import InvalidTransition
from hub.runtime.events import InboxEvent
from hub.state import HUB
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client
from storage.outbox import OutboxStore
from tests.helpers.bot import SAMPLE_KB, chatting
from tests.helpers.commands import COMMANDS
from tests.helpers.hub import bearer, settle, wait_for

QUESTION = "What are your opening hours?"


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


def _newcomer(n: int) -> InboundMessage:
    return InboundMessage(
        channel="telegram",
        external_id=f"first-{n}",
        sender_id=f"newcomer-{n}",
        sender_name=f"Newcomer {n}",
        thread_key=f"chat-{n}",
        text="hello",
    )


async def test_newcomers_are_stored_with_one_command_per_step(client: Any, db: Any) -> None:
    hub = client.app[HUB]
    with COMMANDS.recording(db.name):
        stored = await hub.writer.store_batch([_newcomer(n) for n in range(6)])
    # One read and one upsert of the contacts, the same of the conversations, one insert:
    # nothing is read back after the upserts, and contacts created by this very batch
    # are not searched for a recently resolved conversation to reopen.
    assert COMMANDS.count("find", "contacts") == 1, COMMANDS.commands
    assert COMMANDS.count("update", "contacts") == 1
    assert COMMANDS.count("find", "conversations") == 1
    assert COMMANDS.count("update", "conversations") == 1
    assert COMMANDS.count("insert", "messages") == 1
    assert all(s.new_conversation and not s.duplicate for s in stored)
    for result in stored:  # known as written: the same as what a read returns
        assert await hub.store.get_conversation(result.conversation.id) == result.conversation
        contact = await hub.store.get_contact(result.message.contact_id)
        assert contact is not None and contact.name == result.message.author.name


async def test_a_returning_contact_is_still_checked_for_a_conversation_to_reopen(
    client: Any, db: Any
) -> None:
    hub = client.app[HUB]
    (first,) = await hub.writer.store_batch([_newcomer(1)])
    await hub.update_conversation(first.conversation.id, {"status": "resolved"})
    again = _newcomer(1).model_copy(update={"external_id": "again"})
    (second,) = await hub.writer.store_batch([again])
    assert second.conversation.id == first.conversation.id
    assert second.conversation.status != "resolved"


async def test_transitions_of_concurrent_conversations_share_one_insert(
    client: Any, db: Any
) -> None:
    store = client.app[ROUTER].store
    with COMMANDS.recording(db.name):
        await asyncio.gather(
            *(
                store.record_transition(f"c{n}", None, "bot", actor="bot", reason="new")
                for n in range(8)
            )
        )
    assert COMMANDS.count("insert", "conversation_events") == 1
    assert await db.conversation_events.count_documents({}) == 8


async def test_bot_sessions_of_concurrent_conversations_share_one_write(
    client: Any, db: Any
) -> None:
    stored = await client.app[HUB].writer.store_batch([_newcomer(n) for n in range(5)])
    bot_store = client.app[BOT].store
    with COMMANDS.recording(db.name):
        await asyncio.gather(
            *(
                bot_store.save_session(s.conversation.id, {"greeted": True, "turn": 1})
                for s in stored
            )
        )
    assert COMMANDS.count("update", "conversations") == 1
    for result in stored:
        doc = await db.conversations.find_one({"_id": result.conversation.id})
        assert doc["bot"]["greeted"] is True


async def test_concurrent_agent_replies_read_their_conversations_in_one_query(
    client: Any, db: Any
) -> None:
    hub = client.app[HUB]
    stored = await hub.writer.store_batch([_newcomer(n) for n in range(5)])
    agent = Author(kind="agent", id="alice", name="Alice")
    with COMMANDS.recording(db.name):
        replies = await asyncio.gather(
            *(hub.reply(s.conversation.id, agent, f"answer {n}") for n, s in enumerate(stored))
        )
    assert COMMANDS.reads_by_id("conversations") == 1, COMMANDS.commands
    assert [r.conversation_id for r in replies] == [s.conversation.id for s in stored]
    with pytest.raises(NotFound):
        await hub.reply("no-such-conversation", agent, "hello?")


async def test_a_burst_of_api_calls_checks_its_agent_once(client: Any, db: Any) -> None:
    headers = bearer(client, sub="alice")
    with COMMANDS.recording(db.name):
        responses = await asyncio.gather(
            *(client.get("/api/v1/conversations", headers=headers) for _ in range(8))
        )
    assert [r.status for r in responses] == [200] * 8
    assert COMMANDS.reads_by_id("agents") == 1  # the token's agent, enabled or not


async def test_a_turn_read_before_the_last_session_write_looks_for_no_older_session(
    client: Any, db: Any
) -> None:
    hub, bot = client.app[HUB], client.app[BOT]
    (first,) = await hub.writer.store_batch([_newcomer(1)])
    await bot.on_event(InboxEvent("message", first.conversation, first.message, True))
    later = _newcomer(1).model_copy(update={"external_id": "later", "text": QUESTION})
    (second,) = await hub.writer.store_batch([later])
    # The event carries the conversation as read before the first turn saved its session.
    stale = InboxEvent("message", first.conversation, second.message)
    with COMMANDS.recording(db.name):
        await bot.on_event(stale)
    assert COMMANDS.count("find", "bot_sessions") == 0
    doc = await db.conversations.find_one({"_id": first.conversation.id})
    assert doc["bot"]["turn"] >= 2  # the second turn continued from the first's session


async def test_a_handoff_from_an_event_reads_no_conversation(client: Any, db: Any) -> None:
    hub, router = client.app[HUB], client.app[ROUTER]
    (stored,) = await hub.writer.store_batch([_newcomer(1)])
    with COMMANDS.recording(db.name):
        updated = await router.handoff(
            stored.conversation.id,
            "asked",
            Author(kind="bot", id="bot", name=""),
            stored.conversation,
        )
    assert updated.status == "open"
    assert COMMANDS.reads_by_id("conversations") == 0, COMMANDS.commands


async def test_a_claim_made_after_the_event_still_wins_over_the_handoff(
    client: Any, db: Any
) -> None:
    hub, router = client.app[HUB], client.app[ROUTER]
    (stored,) = await hub.writer.store_batch([_newcomer(1)])
    alice = Author(kind="agent", id="alice", name="Alice")
    await router.claim(stored.conversation.id, "alice", alice)
    with pytest.raises(InvalidTransition):  # read again: assigned, so no handoff
        await router.handoff(
            stored.conversation.id,
            "asked",
            Author(kind="bot", id="bot", name=""),
            stored.conversation,
        )
    doc = await db.conversations.find_one({"_id": stored.conversation.id})
    assert (doc["status"], doc["assignee"]) == ("open", "alice")  # still hers


async def test_handoffs_arriving_during_an_assignment_pass_share_the_next(
    client: Any, db: Any
) -> None:
    router = client.app[ROUTER]
    with COMMANDS.recording(db.name):
        async with router._lock:  # a pass under way (the SLA check's, say)
            calls = [asyncio.create_task(router.assign_waiting()) for _ in range(8)]
            await asyncio.sleep(0)  # let each call arrive; none can pass the lock yet
        assert await asyncio.gather(*calls) == [0] * 8
    # One pass, started after all of them arrived, serves them all (the periodic routing
    # check, started with the hub, may run one of its own meanwhile).
    assert COMMANDS.count("find", "agents") <= 2, COMMANDS.commands


async def test_a_returning_contacts_conversation_is_read_beside_the_contact(
    client: Any, db: Any
) -> None:
    hub = client.app[HUB]
    (first,) = await hub.writer.store_batch([_newcomer(1)])
    again = _newcomer(1).model_copy(update={"external_id": "again"})
    with COMMANDS.recording(db.name):
        (second,) = await hub.writer.store_batch([again])
    assert second.conversation.id == first.conversation.id and not second.new_conversation
    timeline = COMMANDS.timeline
    conversation_read = timeline.index(("started", "find", "conversations"))
    contact_read_done = timeline.index(("succeeded", "find", "contacts"))
    assert conversation_read < contact_read_done, timeline  # one round trip for both
    assert COMMANDS.count("find", "conversations") == 1
