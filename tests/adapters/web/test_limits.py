"""Web chat volume limits over real sockets: a visitor's message rate (over it: an error
frame, nothing stored) and an address's open connections (over it: HTTP 429 before the
upgrade), both counted in /metrics."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from hub.config.model import ChorusConfig
from tests.helpers.hub import wait_for
from tests.helpers.scrape import scrape
from tests.helpers.web_chat import next_frame


@pytest.fixture
def config(config: ChorusConfig) -> ChorusConfig:
    config.web.message_burst = 3
    config.web.message_refill_per_second = 0.001  # nothing comes back during a test
    config.web.max_connections_per_address = 3
    config.sessions.trust_forwarded_for = True
    return config


async def _say(ws: Any, client_id: str) -> dict[str, Any]:
    await ws.send_json({"type": "message", "text": f"spam {client_id}", "client_id": client_id})
    while (frame := await next_frame(ws))["type"] not in ("ack", "error"):
        pass
    return frame


async def test_messages_over_a_visitors_rate_get_an_error_frame_and_are_not_stored(
    client, db
) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello"})
        visitor_token = (await next_frame(ws, "welcome"))["visitor_token"]
        answers = [await _say(ws, f"m{n}") for n in range(5)]
    assert [a["type"] for a in answers] == ["ack"] * 3 + ["error"] * 2
    refused = answers[3]
    assert refused["code"] == "rate_limited" and refused["client_id"] == "m3"
    assert refused["retry_after_seconds"] > 0
    assert await db.messages.count_documents({}) == 3
    # The same visitor on a new socket shares the budget; a new visitor has its own.
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "visitor_token": visitor_token})
        await next_frame(ws, "welcome")
        assert (await _say(ws, "again"))["code"] == "rate_limited"
    async with client.ws_connect("/chat") as ws:
        assert (await _say(ws, "fresh"))["type"] == "ack"
    assert await db.messages.count_documents({}) == 4
    metrics = await scrape(client)
    assert metrics.value("chorus_web_limited_total", limit="message_rate") == 3


async def test_connections_over_an_addresss_limit_are_refused_before_the_upgrade(client) -> None:
    office = {"X-Forwarded-For": "198.51.100.7"}
    held = [await client.ws_connect("/chat", headers=office) for _ in range(3)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/chat", headers=office)
    assert refused.value.status == 429
    resp = await client.get("/chat", headers=office)
    assert resp.status == 429
    assert (await resp.json())["error"]["code"] == "too_many_connections"
    # Another address is not affected.
    other = await client.ws_connect("/chat", headers={"X-Forwarded-For": "203.0.113.1"})
    await other.close()
    # Closing one frees its place.
    await held.pop().close()

    async def reconnected() -> Any:
        try:
            return await client.ws_connect("/chat", headers=office)
        except aiohttp.WSServerHandshakeError:
            return None

    held.append(await wait_for(reconnected))
    for ws in held:
        await ws.close()
    metrics = await scrape(client)
    assert metrics.value("chorus_web_limited_total", limit="connections") >= 2
