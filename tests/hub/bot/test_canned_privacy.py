"""Canned responses fill contact detail only for callers who may read contacts."""

from __future__ import annotations

from typing import Any

from tests.helpers.bot import chatting, conversation_of
from tests.helpers.hub import bearer

TEXT = "Hi {{contact.name}}, we will write to {{contact.email|your address}}."


async def _send_canned_as(client: Any, db: Any, role: str) -> str:
    """Text the customer hears when a caller with ``role`` sends the canned response."""
    sender = bearer(client, sub=f"{role}-1", role=role)
    resp = await client.post(
        "/api/v1/canned_responses", json={"shortcut": f"mail-{role}", "text": TEXT}, headers=sender
    )
    assert resp.status == 201
    canned_id = (await resp.json())["id"]
    async with chatting(client) as customer:
        ack = await customer.say("human please")
        await customer.hear()
        conversation = await conversation_of(client, ack["id"])
        await db.contacts.update_one(
            {"_id": conversation["contact_id"]}, {"$set": {"email": "ada@private.example"}}
        )
        resp = await client.post(
            f"/api/v1/conversations/{conversation['id']}/canned_responses/{canned_id}",
            headers=sender,
        )
        assert resp.status == 201
        stored = (await resp.json())["text"]
        heard = (await customer.hear())["text"]
    assert heard == stored
    return str(heard)


async def test_an_agent_cannot_read_a_contacts_email_through_a_placeholder(client, db) -> None:
    heard = await _send_canned_as(client, db, "agent")
    assert heard == "Hi Ada, we will write to your address."
    assert "ada@private.example" not in heard


async def test_an_admin_fills_the_contacts_email(client, db) -> None:
    heard = await _send_canned_as(client, db, "admin")
    assert heard == "Hi Ada, we will write to ada@private.example."
