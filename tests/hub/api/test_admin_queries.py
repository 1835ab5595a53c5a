"""Admin queries: filters on the list endpoints, contacts and their merge, stats."""

from __future__ import annotations

from typing import Any

from tests.helpers.api import Client
from tests.helpers.hub import bearer


async def _visit(client: Client, text: str) -> dict[str, Any]:
    async with client.ws_connect("/chat") as ws:
        await ws.send_str(text)
        await ws.receive_json(timeout=10)
        ack: dict[str, Any] = await ws.receive_json(timeout=10)
    return ack


async def test_admin_queries_filter_and_stats(client: Client, db: Any) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_str("Where is my PARCEL?")
        await ws.receive_json(timeout=10)
        await ws.receive_json(timeout=10)
    admin = bearer(client, role="admin")
    found = await (
        await client.get("/api/v1/messages", params={"text": "parcel"}, headers=admin)
    ).json()
    assert [m["text"] for m in found["items"]] == ["Where is my PARCEL?"]
    regex = await (
        await client.get("/api/v1/messages", params={"text": ".*"}, headers=admin)
    ).json()
    assert regex["items"] == []  # input is escaped, not a pattern
    future = await (
        await client.get(
            "/api/v1/conversations", params={"since": "2999-01-01T00:00:00Z"}, headers=admin
        )
    ).json()
    assert future["items"] == []
    contacts = await (await client.get("/api/v1/contacts", headers=admin)).json()
    assert len(contacts["items"]) == 1
    stats = await (await client.get("/api/v1/stats", headers=admin)).json()
    assert [(v["channel"], v["direction"], v["count"]) for v in stats["volumes"]] == [
        ("web", "inbound", 1)
    ]
    assert {"first_response", "resolution", "bot", "moderation"} <= set(stats)


async def test_merge_two_contacts(client: Client, db: Any) -> None:
    first = await db.messages.find_one({"_id": (await _visit(client, "one"))["id"]})
    second = await db.messages.find_one({"_id": (await _visit(client, "two"))["id"]})
    keep, other = first["contact_id"], second["contact_id"]
    admin = bearer(client, sub="root", role="admin")
    resp = await client.post(
        f"/api/v1/contacts/{keep}/merge", json={"other_id": other}, headers=admin
    )
    assert resp.status == 200, await resp.text()
    merged = await resp.json()
    assert len(merged["identities"]) == 2
    assert await db.contacts.count_documents({}) == 1
    assert await db.messages.count_documents({"contact_id": keep}) == 2
    assert await db.conversations.count_documents({"contact_id": other}) == 0
    again = await client.post(
        f"/api/v1/contacts/{keep}/merge", json={"other_id": other}, headers=admin
    )
    assert again.status == 404
    itself = await client.post(
        f"/api/v1/contacts/{keep}/merge", json={"other_id": keep}, headers=admin
    )
    assert itself.status == 409
    audit = await (await client.get("/api/v1/audit", headers=admin)).json()
    assert [e["action"] for e in audit["items"]] == ["POST /api/v1/contacts/{id}/merge"]
