"""Offline push: idempotent messages, state changes under the later-server-time rule."""

from __future__ import annotations

from typing import Any

from tests.helpers.hub import bearer
from tests.helpers.sync import Client, customer_says


async def _push(client: Client, body: dict[str, Any], sub: str = "alice") -> Any:
    resp = await client.post("/api/v1/sync/push", json=body, headers=bearer(client, sub=sub))
    return resp.status, await resp.json()


async def _conversation(client: Client, conversation_id: str) -> Any:
    resp = await client.get(f"/api/v1/conversations/{conversation_id}", headers=bearer(client))
    return await resp.json()


async def test_pushing_the_same_batch_twice_stores_it_once(client, db) -> None:
    result = await customer_says(client, "ada", "hello")
    conversation_id = result.conversation.id
    batch = {
        "messages": [
            {"id": "dev1-0001", "conversation_id": conversation_id, "text": "Written offline"},
            {
                "id": "dev1-0002",
                "conversation_id": conversation_id,
                "text": "A note",
                "private": True,
            },
        ]
    }
    status, first = await _push(client, batch)
    assert status == 200
    status, second = await _push(client, batch)
    assert status == 200
    assert [m["message_id"] for m in first["messages"]] == [
        m["message_id"] for m in second["messages"]
    ]
    stored = await db.messages.find({"direction": "outbound"}).sort("_id", 1).to_list()
    assert [(m["text"], m["private"], m["author"]["id"]) for m in stored] == [
        ("Written offline", False, "alice"),
        ("A note", True, "alice"),
    ]
    assert stored[0]["delivery"]["status"] in {"pending", "sent"}
    assert stored[1]["delivery"] is None


async def test_later_server_time_wins_for_status_and_assignee(client, db) -> None:
    result = await customer_says(client, "bo", "help")
    seen = await _conversation(client, result.conversation.id)  # what the device last saw

    # Online, someone assigns the conversation after the device went offline.
    resp = await client.patch(
        f"/api/v1/conversations/{result.conversation.id}",
        json={"assignee": "carol"},
        headers=bearer(client, sub="carol"),
    )
    assert resp.status == 200

    offline = {
        "states": [
            {
                "conversation_id": result.conversation.id,
                "based_on": seen["updated_at"],
                "status": "pending",
                "assignee": "alice",
            }
        ]
    }
    status, body = await _push(client, offline)
    assert status == 200
    outcome = body["states"][0]
    assert outcome["fields"] == {"status": "applied", "assignee": "conflict"}
    assert outcome["conversation"]["status"] == "pending"
    assert outcome["conversation"]["assignee"] == "carol"

    # The same push again changes nothing and says so.
    status, body = await _push(client, offline)
    assert body["states"][0]["fields"] == {"status": "unchanged", "assignee": "conflict"}

    # A device that has seen the server's change may override it.
    seen = await _conversation(client, result.conversation.id)
    status, body = await _push(
        client,
        {
            "states": [
                {
                    "conversation_id": result.conversation.id,
                    "based_on": seen["updated_at"],
                    "assignee": "alice",
                }
            ]
        },
    )
    assert body["states"][0]["fields"] == {"assignee": "applied"}
    stored = await db.conversations.find_one({"_id": result.conversation.id})
    assert stored["assignee"] == "alice" and stored["status"] == "pending"


async def test_a_bad_batch_is_refused_whole(client, db) -> None:
    result = await customer_says(client, "cy", "hi")
    good = {"id": "dev2-0001", "conversation_id": result.conversation.id, "text": "ok"}
    cases = [
        ({"messages": [good, {**good, "id": "dev2-0002", "conversation_id": "nope"}]}, 404),
        ({"messages": [good, {**good, "id": "dev2-0003", "text": "   "}]}, 400),
        ({"messages": [{**good, "id": "short"}]}, 400),
        ({"messages": [{**good, "id": "has spaces in it"}]}, 400),
        ({"messages": [{**good, "extra": 1}]}, 400),
        ({"states": [{"conversation_id": result.conversation.id, "status": "open"}]}, 400),
        (
            {
                "states": [
                    {
                        "conversation_id": result.conversation.id,
                        "based_on": "2026-01-01T00:00:00",
                        "status": "open",
                    }
                ]
            },
            400,
        ),
        (
            {
                "states": [
                    {
                        "conversation_id": result.conversation.id,
                        "based_on": "2026-01-01T00:00:00Z",
                    }
                ]
            },
            400,
        ),
        ({}, 400),
        ({"messages": [{**good, "id": f"dev2-{n:04}"} for n in range(101)]}, 400),
    ]
    for body, expected in cases:
        status, answer = await _push(client, body)
        assert status == expected, (body, answer)
        assert "code" in answer["error"]
    assert await db.messages.count_documents({"direction": "outbound"}) == 0
    resp = await client.post(
        "/api/v1/sync/push",
        data="not json",
        headers={**bearer(client), "Content-Type": "application/json"},
    )
    assert resp.status == 400
    # A message repeated within a batch is stored once, as a batch pushed twice is.
    status, answer = await _push(client, {"messages": [good, good]})
    assert status == 200 and answer["messages"][0] == answer["messages"][1]
    assert await db.messages.count_documents({"direction": "outbound"}) == 1
