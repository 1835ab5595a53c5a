"""Headers, CORS, WebSocket origins, query parsing under fuzz, and channel restrictions."""

from __future__ import annotations

import contextlib
import string
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.api.admin import AuditQuery
from hub.api.inbox import ConversationQuery, MessageQuery
from hub.api.insights import ContactQuery, StatsRange
from hub.config.model import ChorusConfig
from hub.errors import BadRequest
from hub.http.json_api import parse_model
from hub.state import CONFIG, TOKENS
from tests.helpers.api import Client
from tests.helpers.hub import bearer, ensure_agent


async def test_security_headers_on_success_and_error(client: Client) -> None:
    for resp in (await client.get("/healthz"), await client.get("/api/v1/agents")):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert "http" not in resp.headers["Content-Security-Policy"]


async def test_cors_only_for_configured_origins(make_client: Any, config: ChorusConfig) -> None:
    config.http.cors_origins = ["https://admin.example"]
    client = await make_client(config)
    headers = {**bearer(client), "Origin": "https://admin.example"}
    allowed = await client.get("/api/v1/agents", headers=headers)
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://admin.example"
    other = await client.get("/api/v1/agents", headers={**headers, "Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = await client.options(
        "/api/v1/agents",
        headers={"Origin": "https://admin.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


async def test_websocket_origin_check(make_client: Any, config: ChorusConfig) -> None:
    config.http.ws_allowed_origins = ["https://shop.example"]
    client = await make_client(config)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/chat", headers={"Origin": "https://evil.test"})
    assert refused.value.status == 403
    own = f"http://{client.host}:{client.port}"
    for origin in (own, "https://shop.example", None):
        headers = {"Origin": origin} if origin else {}
        async with client.ws_connect("/chat", headers=headers) as ws:
            await ws.send_str("hi")
            assert (await ws.receive_json(timeout=10))["type"] == "welcome"
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await client.ws_connect("/inbox/ws", headers={"Origin": "https://evil.test"})


QUERY_MODELS = [ConversationQuery, MessageQuery, AuditQuery, ContactQuery, StatsRange]
keys = st.sampled_from(
    ["limit", "cursor", "since", "until", "status", "channel", "text", "q", "label", "who", "x"]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    model=st.sampled_from(QUERY_MODELS),
    query=st.dictionaries(keys, st.text(string.printable + "éß\u0000\ud7ff", max_size=40)),
)
def test_query_parsing_never_fails_unexpectedly(model: Any, query: dict[str, str]) -> None:
    """Any strings either parse or raise the API's own BadRequest (a 400), nothing else."""
    with contextlib.suppress(BadRequest):
        parse_model(model, query)


async def test_restricted_agent_sees_only_its_channels(client: Client, db: Any) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_str("hello from the web")
        await ws.receive_json(timeout=10)
        ack = await ws.receive_json(timeout=10)
    message = await db.messages.find_one({"_id": ack["id"]})
    conversation_id = message["conversation_id"]
    ensure_agent(client.app[CONFIG], "tg-only")
    token = client.app[TOKENS].issue("tg-only", "agent", allowed_channels=["telegram"])
    restricted = {"Authorization": f"Bearer {token}"}
    for path in (
        f"/api/v1/conversations/{conversation_id}",
        f"/api/v1/conversations/{conversation_id}/messages",
        f"/api/v1/messages/{ack['id']}",
    ):
        resp = await client.get(path, headers=restricted)
        assert resp.status == 404, path
    missing = await client.get("/api/v1/conversations/nope", headers=restricted)
    assert missing.status == 404  # the same answer as for an id that exists elsewhere
    listed = await (await client.get("/api/v1/conversations", headers=restricted)).json()
    assert listed["items"] == []
    assert (await client.get("/api/v1/sync/snapshot", headers=restricted)).status == 403
    everyone = bearer(client, role="agent")
    assert (await client.get(f"/api/v1/conversations/{conversation_id}", headers=everyone)).ok
