"""Agents' own read marks: stored per agent and conversation, so unread survives a reload."""

from __future__ import annotations

from hub.state import TOKENS
from tests.helpers.hub import bearer, ensure_agent
from tests.helpers.presence import visitor_message


async def test_read_marks_are_the_callers_own_and_follow_channel_rules(client, db) -> None:
    async with client.ws_connect("/chat") as visitor:
        ack = await visitor_message(visitor, "Hello", "c1")
    conversation_id = (await db.messages.find_one({"_id": ack["id"]}))["conversation_id"]

    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/read", headers=bearer(client, "ada")
    )
    assert resp.status == 200
    mark = await resp.json()
    assert mark["conversation_id"] == conversation_id and mark["read_at"]

    resp = await client.get("/api/v1/reads", headers=bearer(client, "ada"))
    assert (await resp.json())["items"] == [mark]
    resp = await client.get("/api/v1/reads", headers=bearer(client, "bo"))
    assert (await resp.json())["items"] == []

    resp = await client.post("/api/v1/conversations/nope/read", headers=bearer(client, "ada"))
    assert resp.status == 404
    resp = await client.get("/api/v1/reads?since=yesterday", headers=bearer(client, "ada"))
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_request"


async def test_a_token_restricted_to_other_channels_cannot_mark_read(client, db, config) -> None:
    async with client.ws_connect("/chat") as visitor:
        ack = await visitor_message(visitor, "Hello", "c1")
    conversation_id = (await db.messages.find_one({"_id": ack["id"]}))["conversation_id"]
    ensure_agent(config, "tess")
    token = client.app[TOKENS].issue("tess", "agent", allowed_channels=["telegram"])
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/read",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 404
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/read", headers=bearer(client, "ada")
    )
    assert resp.status == 200
    assert await db.agent_reads.distinct("agent_id") == ["ada"]
