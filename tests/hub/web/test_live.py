"""The agents' live feed: authenticated, and every stored message shows up on it."""

from __future__ import annotations

from typing import Any

from hub.state import CONFIG, TOKENS
from tests.helpers.hub import ensure_agent


async def _next(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == kind:
            return frame


async def test_agent_sees_customer_message_and_reply_live(client) -> None:
    ensure_agent(client.app[CONFIG], "bo")
    token = client.app[TOKENS].issue("bo", "agent")
    async with client.ws_connect("/inbox/ws") as agent:
        await agent.send_json({"type": "auth", "token": token})
        ready = await _next(agent, "ready")
        assert ready["agent"] == "bo"
        async with client.ws_connect("/chat") as customer:
            await customer.send_json({"type": "message", "text": "hello?", "client_id": "1"})
            event = await _next(agent, "message")
            assert event["message"]["text"] == "hello?"
            assert event["new_conversation"] is True
            conversation_id = event["conversation"]["id"]
            resp = await client.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"text": "hi!"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert resp.status == 201
            event = await _next(agent, "message")
            assert event["message"]["direction"] == "outbound"


async def test_agent_feed_refuses_bad_tokens(client) -> None:
    for first in ({"type": "auth", "token": "nope"}, {"type": "hello"}, "not json"):
        async with client.ws_connect("/inbox/ws") as ws:
            if isinstance(first, str):
                await ws.send_str(first)
            else:
                await ws.send_json(first)
            frame = await ws.receive_json(timeout=10)
            assert frame["type"] == "error"
            closing = await ws.receive(timeout=10)
            assert ws.close_code == 4401 or closing.data == 4401


async def test_visitor_token_cannot_open_the_agent_feed(client) -> None:
    visitor = client.app[TOKENS].issue_visitor("v1")
    async with client.ws_connect(f"/inbox/ws?access_token={visitor}") as ws:
        frame = await ws.receive_json(timeout=10)
        assert frame["code"] == "invalid_token"
