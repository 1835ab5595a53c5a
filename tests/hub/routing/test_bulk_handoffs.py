"""Handoffs made from events share bulk updates, and keep every guarantee of one each.

Concurrent handoffs of conversations known from their events are written by one bulk
update whose filters say "still as the event saw it"; an agent's claim made meanwhile still
wins, and a change that cannot be written fails for its own caller only.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from hub.bot.service import ROUTER
from hub.domain import Author, InboundMessage
from hub.errors import BadRequest, ConversationChanged
from hub.routing.states import InvalidTransition
from hub.runtime.events import InboxEvent
from hub.state import HUB
from tests.helpers.commands import COMMANDS

BOT = Author(kind="bot", id="bot", name="")
ALICE = Author(kind="agent", id="alice", name="Alice")


def _customer(n: int, external_id: str = "first") -> InboundMessage:
    return InboundMessage(
        channel="telegram",
        external_id=f"{external_id}-{n}",
        sender_id=f"customer-{n}",
        sender_name=f"Customer {n}",
        thread_key=f"chat-{n}",
        text="I want a person",
    )


def _handoff_changes(reason: str) -> dict[str, Any]:
    return {"status": "open", "assignee": None, "handoff_reason": reason}


async def test_concurrent_handoffs_share_one_bulk_update(client: Any, db: Any) -> None:
    hub, router = client.app[HUB], client.app[ROUTER]
    stored = await hub.writer.store_batch([_customer(n) for n in range(6)])
    with COMMANDS.recording(db.name):
        handed = await asyncio.gather(
            *(router.handoff(s.conversation.id, "asked", BOT, seen=s.conversation) for s in stored)
        )
    assert COMMANDS.count("findAndModify", "conversations") == 0, COMMANDS.commands
    assert COMMANDS.count("update", "conversations") <= 2  # the handoffs' bulk, and recency
    handoff_updates = [c for n, t, c in COMMANDS.commands if n == "update" and t == "conversations"]
    assert any(len(c["updates"]) == 6 for c in handoff_updates), handoff_updates
    assert COMMANDS.reads_by_id("conversations") == 0  # all applied: nothing read back
    for result, conversation in zip(stored, handed, strict=True):
        doc = await db.conversations.find_one({"_id": result.conversation.id})
        assert (doc["status"], doc["assignee"], doc["handoff_reason"]) == ("open", None, "asked")
        assert (conversation.status, conversation.assignee) == ("open", None)
        assert conversation.updated_at == doc["updated_at"].replace(
            tzinfo=conversation.updated_at.tzinfo
        )
    # Each handoff is recorded as a transition, as a findAndModify of its own was.
    assert await db.conversation_events.count_documents({"to": "open", "reason": "asked"}) == 6


async def test_a_claim_made_meanwhile_wins_and_only_its_handoff_is_refused(
    client: Any, db: Any
) -> None:
    hub, router = client.app[HUB], client.app[ROUTER]
    stored = await hub.writer.store_batch([_customer(n) for n in range(4)])
    claimed = stored[2].conversation
    await router.claim(claimed.id, "alice", ALICE)  # after the events were read
    with COMMANDS.recording(db.name):
        outcomes = await asyncio.gather(
            *(
                hub.update_conversation(
                    s.conversation.id,
                    _handoff_changes("asked"),
                    actor=BOT,
                    reason="asked",
                    previous=s.conversation,
                    expect_routing=True,
                )
                for s in stored
            ),
            return_exceptions=True,
        )
    assert isinstance(outcomes[2], ConversationChanged)
    assert [o.status for n, o in enumerate(outcomes) if n != 2] == ["open"] * 3  # type: ignore[union-attr]
    assert COMMANDS.count("findAndModify", "conversations") == 0, COMMANDS.commands
    # One bulk for the four, one read of which of them applied.
    assert COMMANDS.reads_by_id("conversations") == 1
    doc = await db.conversations.find_one({"_id": claimed.id})
    assert (doc["status"], doc["assignee"]) == ("open", "alice")  # still hers
    # Through the router, the refused handoff reads the conversation and finds it taken.
    with pytest.raises(InvalidTransition):
        await router.handoff(claimed.id, "asked", BOT, seen=claimed)


async def test_a_change_that_cannot_be_written_fails_for_its_caller_only(
    client: Any, db: Any
) -> None:
    hub = client.app[HUB]
    stored = await hub.writer.store_batch([_customer(n) for n in range(3)])
    first = stored[0].conversation
    resolved = await hub.update_conversation(first.id, {"status": "resolved"})
    # The customer writes again, past any reopen window: a new active conversation now
    # holds the thread.
    hub.reopen_window = timedelta(0)
    (again,) = await hub.writer.store_batch([_customer(0, external_id="again")])
    assert again.conversation.id != first.id
    with COMMANDS.recording(db.name):
        outcomes = await asyncio.gather(
            hub.update_conversation(  # reopening the old one would make two active ones
                first.id,
                {"status": "open", "assignee": None},
                previous=resolved,
                expect_routing=True,
            ),
            *(
                hub.update_conversation(
                    s.conversation.id,
                    _handoff_changes("asked"),
                    actor=BOT,
                    reason="asked",
                    previous=s.conversation,
                    expect_routing=True,
                )
                for s in stored[1:]
            ),
            return_exceptions=True,
        )
    assert isinstance(outcomes[0], BadRequest) and outcomes[0].code == "conversation_conflict"
    assert [o.status for o in outcomes[1:]] == ["open", "open"]  # type: ignore[union-attr]
    assert COMMANDS.count("findAndModify", "conversations") == 0, COMMANDS.commands
    assert (await db.conversations.find_one({"_id": first.id}))["status"] == "resolved"
    for result in stored[1:]:
        doc = await db.conversations.find_one({"_id": result.conversation.id})
        assert doc["status"] == "open"


async def test_messages_stored_before_a_handoff_without_the_bot_cost_nothing_after_it(
    client: Any, db: Any
) -> None:
    hub, router = client.app[HUB], client.app[ROUTER]
    (first,) = await hub.writer.store_batch([_customer(1)])
    event = InboxEvent("message", first.conversation, first.message, new_conversation=True)
    await router.hand_off_without_bot(event)
    # A burst's later messages were stored before the handoff: their events say "bot".
    with COMMANDS.recording(db.name):
        for _ in range(3):
            await router.hand_off_without_bot(event)
    assert [c for c in COMMANDS.commands if c[1] == "conversations"] == []
    doc = await db.conversations.find_one({"_id": first.conversation.id})
    assert (doc["status"], doc["handoff_reason"]) == ("open", "bot_disabled")
