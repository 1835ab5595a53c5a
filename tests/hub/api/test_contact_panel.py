"""The contact panel's API: the profile with conversations and ratings, edits by role."""

from __future__ import annotations

from hub.state import MONGO, TOKENS
from tests.helpers.hub import bearer, ensure_agent
from tests.helpers.presence import visitor_message


async def _contact(client, db) -> tuple[str, str]:
    async with client.ws_connect("/chat") as visitor:
        ack = await visitor_message(visitor, "Hello", "c1")
    message = await db.messages.find_one({"_id": ack["id"]})
    return message["contact_id"], message["conversation_id"]


async def test_agents_edit_name_and_notes_and_see_conversations_with_ratings(client, db) -> None:
    contact_id, conversation_id = await _contact(client, db)
    await (
        client.app[MONGO]
        .collection("ratings")
        .insert_one({"_id": conversation_id, "contact_id": contact_id, "score": 4})
    )
    resp = await client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"name": "Ada Lovelace", "notes": "Prefers email"},
        headers=bearer(client, "ann"),
    )
    assert resp.status == 200
    profile = await resp.json()
    assert (profile["name"], profile["notes"], profile["email"]) == (
        "Ada Lovelace",
        "Prefers email",
        None,  # agents do not read emails
    )
    assert [(c["id"], c["rating"]) for c in profile["conversations"]] == [(conversation_id, 4)]

    resp = await client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"email": "ada@example.org"},
        headers=bearer(client, "ann"),
    )
    assert resp.status == 403
    resp = await client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"email": "ada@example.org"},
        headers=bearer(client, "root", role="admin"),
    )
    assert (await resp.json())["email"] == "ada@example.org"
    resp = await client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"email": "nope"},
        headers=bearer(client, "root", role="admin"),
    )
    assert resp.status == 400
    assert (await db.contacts.find_one({"_id": contact_id}))["email"] == "ada@example.org"
    resp = await client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"notes": "x"},
        headers=bearer(client, "vic", role="viewer"),
    )
    assert resp.status == 403
    resp = await client.patch(
        "/api/v1/contacts/nobody", json={"notes": "x"}, headers=bearer(client)
    )
    assert resp.status == 404


async def test_a_restricted_caller_sees_only_its_channels_conversations(client, db, config) -> None:
    contact_id, _ = await _contact(client, db)
    ensure_agent(config, "tess")
    token = client.app[TOKENS].issue("tess", "agent", allowed_channels=["telegram"])
    resp = await client.get(
        f"/api/v1/contacts/{contact_id}/profile", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 200
    assert (await resp.json())["conversations"] == []
