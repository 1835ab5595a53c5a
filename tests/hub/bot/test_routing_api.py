"""Routing through the API: assignment by policy, presence and capacity, the SLA,
notes, labels, canned responses and the bot metrics."""

from __future__ import annotations

from hub.bot.service import ROUTER
from tests.helpers.bot import chatting, conversation_of, go_online, resolve, transitions
from tests.helpers.hub import bearer, settle, wait_for


async def _handed_off(client, text: str = "agent please") -> str:
    """A new customer who asks for a person; returns the conversation id."""
    async with chatting(client) as customer:
        ack = await customer.say(text)
        await customer.hear()
    conversation_id: str = (await conversation_of(client, ack["id"]))["id"]
    # The bot's turn (reply, handoff, assignment by policy) is one listener task: wait for it.
    await settle(client)
    return conversation_id


async def _conversation(client, conversation_id):
    resp = await client.get(f"/api/v1/conversations/{conversation_id}", headers=bearer(client))
    return await resp.json()


async def test_least_loaded_fills_agents_evenly_and_respects_capacity(client) -> None:
    admin = bearer(client, sub="root", role="admin")
    for agent_id in ("ann", "bob"):
        await go_online(client, agent_id)
    resp = await client.put("/api/v1/agents/bob/capacity", json={"capacity": 1}, headers=admin)
    assert resp.status == 200 and (await resp.json())["capacity"] == 1

    ids = [await _handed_off(client) for _ in range(4)]
    assignees = [(await _conversation(client, cid))["assignee"] for cid in ids]
    # ann (capacity 5) and bob (capacity 1) share the first two; then only ann has room.
    assert sorted(assignees[:2]) == ["ann", "bob"] and assignees[2:] == ["ann", "ann"]

    resp = await client.get("/api/v1/agents", headers=bearer(client))
    loads = {a["id"]: (a["load"], a["online"]) for a in (await resp.json())["items"]}
    # root and alice exist only because their tokens must name agents: offline, no load.
    assert loads == {"ann": (3, True), "bob": (1, True), "root": (0, False), "alice": (0, False)}

    # Offline agents get nothing; capacity is admin-only; agents set only their own status.
    resp = await client.put(
        "/api/v1/agents/ann/status", json={"online": False}, headers=bearer(client, sub="ann")
    )
    assert resp.status == 200 and (await resp.json())["online"] is False
    waiting = await _handed_off(client)
    assert (await _conversation(client, waiting))["assignee"] is None
    resp = await client.put(
        "/api/v1/agents/bob/capacity", json={"capacity": 9}, headers=bearer(client, sub="bob")
    )
    assert resp.status == 403
    resp = await client.put(
        "/api/v1/agents/bob/status", json={"online": False}, headers=bearer(client, sub="ann")
    )
    assert resp.status == 403
    resp = await client.put("/api/v1/agents/nobody/capacity", json={"capacity": 2}, headers=admin)
    assert resp.status == 404
    # Raising bob's capacity lets the waiting conversation go to him.
    resp = await client.put("/api/v1/agents/bob/capacity", json={"capacity": 2}, headers=admin)
    assert (await _conversation(client, waiting))["assignee"] == "bob"


async def test_conversations_waiting_past_the_sla_rise_in_priority(client_factory) -> None:
    client = await client_factory(assignment={"sla_seconds": 0.05})
    conversation_id = await _handed_off(client)
    assert (await _conversation(client, conversation_id))["priority"] == 0

    async def raised():
        await client.app[ROUTER].tick()
        return (await _conversation(client, conversation_id))["priority"] >= 1

    await wait_for(raised)
    resp = await client.get("/api/v1/conversations?status=open", headers=bearer(client))
    assert [c["id"] for c in (await resp.json())["items"]] == [conversation_id]


async def test_notes_labels_and_canned_responses(client, db) -> None:
    agent = bearer(client, sub="ann")
    resp = await client.post(
        "/api/v1/canned_responses",
        json={"shortcut": "thanks", "text": "Thanks {{contact.name|there}}, {{agent.id}} here."},
        headers=agent,
    )
    assert resp.status == 201
    canned_id = (await resp.json())["id"]
    resp = await client.post(
        "/api/v1/canned_responses",
        json={"shortcut": "bad", "text": "{{contact.password}}"},
        headers=agent,
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "unknown_placeholder"
    resp = await client.post(
        "/api/v1/canned_responses", json={"shortcut": "thanks", "text": "again"}, headers=agent
    )
    assert resp.status == 409

    async with chatting(client) as customer:
        ack = await customer.say("human")
        await customer.hear()
        conversation_id = (await conversation_of(client, ack["id"]))["id"]

        resp = await client.post(
            f"/api/v1/conversations/{conversation_id}/notes", json={"text": "VIP"}, headers=agent
        )
        assert resp.status == 201 and (await resp.json())["private"] is True
        resp = await client.post(
            f"/api/v1/conversations/{conversation_id}/canned_responses/{canned_id}", headers=agent
        )
        assert resp.status == 201
        heard = await customer.hear()
        assert heard["text"] == "Thanks Ada, ann here."

    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/labels",
        json={"add": ["billing", "vip"]},
        headers=agent,
    )
    assert (await resp.json())["labels"] == ["billing", "vip"]
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/labels", json={"remove": ["vip"]}, headers=agent
    )
    assert (await resp.json())["labels"] == ["billing"]
    note = await db.messages.find_one({"text": "VIP"})
    assert note["delivery"] is None


async def test_bot_metrics_containment_handoff_reasons_and_first_response(client) -> None:
    # One conversation the bot handles alone, one it hands off, both resolved.
    async with chatting(client) as customer:
        ack = await customer.say("How do I reset my password?")
        await customer.hear()
    contained = (await conversation_of(client, ack["id"]))["id"]
    handed = await _handed_off(client, "human please")
    await client.post(f"/api/v1/conversations/{handed}/assign", headers=bearer(client, sub="ann"))
    await client.post(
        f"/api/v1/conversations/{handed}/messages",
        json={"text": "Hi"},
        headers=bearer(client, sub="ann"),
    )
    for conversation_id in (contained, handed):
        await resolve(client, conversation_id, "root")

    async def stats():
        resp = await client.get("/api/v1/stats/bot", headers=bearer(client))
        data = await resp.json()
        return data if data["resolved"] == 2 else None

    data = await wait_for(stats)
    assert data["contained"] == 1 and data["containment_rate"] == 0.5
    assert data["handoff_reasons"] == {"customer_request": 1}
    assert data["conversations"] == 2
    assert data["first_response"]["count"] == 2
    assert 0 <= data["first_response"]["median_seconds"] < 5
    assert data["first_human_response_after_handoff"]["count"] == 1
    resp = await client.get("/api/v1/stats/bot?since=yesterday", headers=bearer(client))
    assert resp.status == 400


async def test_without_the_bot_customers_go_straight_to_an_agent(client_factory) -> None:
    client = await client_factory(enabled=False)
    await go_online(client, "ann")
    async with chatting(client) as customer:
        ack = await customer.say("How long does shipping take?")
    conversation_id = (await conversation_of(client, ack["id"]))["id"]
    await settle(client)
    conversation = await _conversation(client, conversation_id)
    assert conversation["status"] == "open" and conversation["assignee"] == "ann"
    rows = await transitions(client, conversation_id, at_least=3)
    assert [(r["from"], r["to"], r["reason"]) for r in rows][1:] == [
        ("bot", "open", "bot_disabled"),
        ("open", "assigned", "policy:least_loaded"),
    ]
    resp = await client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers=bearer(client)
    )
    assert [m["author"]["kind"] for m in (await resp.json())["items"]] == ["contact"]
