"""Typing and read receipts between two hub processes on one database: the customer's
socket on one, the agent's inbox on the other, as behind a load balancer."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import ClientWebSocketResponse

from hub.access.tokens import TokenService
from hub.config.model import ChorusConfig
from tests.helpers.hub import ensure_agent
from tests.helpers.instances import serve_env, two_hubs


async def _frame(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == kind:
            return frame


async def test_typing_and_seen_cross_between_instances(config: ChorusConfig, db, tmp_path) -> None:
    ensure_agent(config, "agent-bo")
    token = TokenService(config.auth).issue("agent-bo", "agent", name="Bo")
    async with (
        two_hubs(serve_env(config, tmp_path)) as (a, b),
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{a}/chat") as customer,
        http.ws_connect(f"{b}/inbox/ws") as agent,
    ):
        await agent.send_json({"type": "auth", "token": token})
        await _frame(agent, "ready")
        await customer.send_json({"type": "hello", "name": "Ada"})
        await _frame(customer, "welcome")
        await customer.send_json({"type": "message", "text": "Hello?", "client_id": "c1"})
        ack = await _frame(customer, "ack")
        conversation_id = (await db.messages.find_one({"_id": ack["id"]}))["conversation_id"]

        await customer.send_json({"type": "typing"})  # on A
        typing = await _frame(agent, "typing")  # on B
        assert typing == {"type": "typing", "conversation_id": conversation_id,
                          "who": "customer", "expires_in_seconds": 6.0}  # fmt: skip

        await agent.send_json({"type": "typing", "conversation_id": conversation_id})  # on B
        shown = await _frame(customer, "typing")  # on A
        assert shown["author"] == {"kind": "agent", "name": "Bo"}

        async with http.post(
            f"{b}/api/v1/conversations/{conversation_id}/messages",
            json={"text": "Hi Ada"},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            assert resp.status == 201
            reply = await resp.json()
        assert (await _frame(customer, "message"))["id"] == reply["id"]
        await customer.send_json({"type": "seen", "id": reply["id"]})  # on A
        seen = await _frame(agent, "seen")  # on B
        assert (seen["conversation_id"], seen["seq"]) == (conversation_id, reply["seq"])
    assert await db.presence_signals.count_documents({}) == 3  # kept a minute, then swept
