"""Messages owe ``message.created`` only while some active endpoint wants it, asked of the
database after each insert batch commits: so an endpoint another instance created
(written straight into the database here, as that instance would) counts for the very
next message."""

from __future__ import annotations

from typing import Any

from hub.domain import new_id, utcnow
from hub.state import MONGO
from storage.mongo import MongoStore, make_client
from storage.webhook_interest import YES_SECONDS, WebhookInterest
from storage.webhook_journal import OWED, OWED_AT
from tests.helpers.hub import wait_for
from tests.helpers.webhooks import customer_writes


async def _endpoint(db: Any, url: str, events: list[str], active: bool = True) -> None:
    """An endpoint as any instance's API stores it (storage/webhooks.py)."""
    await db.webhook_endpoints.insert_one(
        {
            "_id": new_id(),
            "url": url,
            "events": events,
            "secret": "whsec_" + "s" * 43,
            "active": active,
            "flagged": False,
            "description": "",
            "failing_since": None,
            "created_at": utcnow(),
        }
    )


async def _say(client: Any, text: str, n: int) -> dict[str, Any]:
    return await customer_writes(client, text, message_id=f"m{n}")


async def test_no_endpoint_wanting_it_means_the_message_is_written_once(
    make_client, hook_config, receiver, db
) -> None:
    client = await make_client(hook_config)
    # Endpoints that do not want it: one inactive, one for conversation events only.
    await _endpoint(db, receiver.url, ["message.created"], active=False)
    await _endpoint(db, receiver.url, ["conversation.created"])
    posted = await _say(client, "hello", 1)
    doc = await db.messages.find_one({"_id": posted["id"]})
    assert OWED not in doc and OWED_AT not in doc

    async def conversation_event() -> bool:
        return any(e["type"] == "conversation.created" for e in receiver.accepted())

    await wait_for(conversation_event)  # the sender ran its passes meanwhile
    assert [e["type"] for e in receiver.accepted()] == ["conversation.created"]


async def test_an_endpoint_stored_by_another_instance_counts_for_the_next_message(
    make_client, hook_config, receiver, db
) -> None:
    client = await make_client(hook_config)
    first = await _say(client, "before any endpoint", 1)
    await _endpoint(db, receiver.url, ["message.created"])
    second = await _say(client, "right after", 2)

    async def delivered() -> set[str]:
        return {
            e["data"]["message"]["id"]
            for e in receiver.accepted()
            if e["type"] == "message.created"
        }

    assert await wait_for(delivered) == {second["id"]}
    assert first["id"] not in await delivered()  # nobody wanted it when it was written


async def test_an_unanswerable_question_owes_the_event() -> None:
    # Nothing listens on this port: the question fails, and the write owes the event.
    dead = MongoStore(make_client("mongodb://127.0.0.1:9/", server_selection_timeout_ms=200), "x")
    try:
        assert await WebhookInterest(dead).wants("message.created") is True
    finally:
        await dead.close()


async def test_a_yes_is_remembered_for_a_while_so_inserts_owe_without_asking(
    make_client, hook_config, receiver, db
) -> None:
    client = await make_client(hook_config)
    now = [100.0]
    interest = WebhookInterest(client.app[MONGO], clock=lambda: now[0])
    assert not interest.wanted("message.created")
    assert await interest.wants("message.created") is False  # no endpoint yet
    await _endpoint(db, receiver.url, ["message.created"])
    assert await interest.wants("message.created") is True
    assert interest.wanted("message.created")
    now[0] += YES_SECONDS + 0.1
    assert not interest.wanted("message.created")  # asked again from then on
