"""The README's API-channel bridge, run as written against a live hub: a provider's text
reaches the inbox once, an agent's reply comes back to the provider through the bridge,
and the bridge refuses a delivery whose signature is not the documented one."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from aiohttp import web

from storage.embedded import free_port
from tests.helpers.embedded_hub import ROOT
from tests.helpers.hub import bearer, wait_for

BRIDGE = re.compile(r"```python\n(import hashlib, hmac.*?from_chorus.*?)```", re.S)


def readme_bridge() -> str:
    found = BRIDGE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert found, "the README's bridge example is missing"
    return found[1]


class Provider:
    """The SMS provider's send endpoint: keeps what the bridge sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_post("/send", self.send)

    async def send(self, request: web.Request) -> web.Response:
        self.sent.append(await request.json())
        return web.json_response({"queued": True})


async def _sent(provider: Provider) -> list[dict[str, Any]]:
    return provider.sent


def test_the_bridge_is_about_thirty_lines() -> None:
    lines = [line for line in readme_bridge().splitlines() if line.strip()]
    assert len(lines) <= 30, len(lines)


async def test_the_readme_bridge_carries_messages_both_ways(
    make_client: Any, aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch, db: Any
) -> None:
    client = await make_client()
    provider = Provider()
    provider_server = await aiohttp_server(provider.app)
    port = free_port()
    resp = await client.post(
        "/api/v1/api-channels",
        json={"name": "SMS", "webhook_url": f"http://127.0.0.1:{port}/chorus"},
        headers=bearer(client, role="admin"),
    )
    inbox = await resp.json()
    for name, value in {
        "CHORUS_URL": str(client.make_url("")).rstrip("/"),
        "CHORUS_INBOX_ID": inbox["id"],
        "CHORUS_INBOX_TOKEN": inbox["token"],
        "CHORUS_INBOX_SECRET": inbox["secret"],
        "PLATFORM_SEND_URL": str(provider_server.make_url("/send")),
    }.items():
        monkeypatch.setenv(name, value)
    bridge: dict[str, Any] = {"__name__": "bridge"}
    exec(compile(readme_bridge(), "README.md bridge", "exec"), bridge)  # noqa: S102
    bridge_server = await aiohttp_server(bridge["app"], port=port)

    text = {"id": "sms-1", "from": "+447700900123", "name": "Ada", "text": "Is my order late?"}
    first = await client.session.post(bridge_server.make_url("/inbound"), json=text)
    assert first.status == 201
    again = await client.session.post(bridge_server.make_url("/inbound"), json=text)
    assert again.status == 200 and (await again.json())["duplicate"] is True
    conversation_id = (await first.json())["conversation_id"]
    assert await db.messages.count_documents({"conversation_id": conversation_id}) == 1

    reply = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "It ships today, Ada."},
        headers=bearer(client),
    )
    assert reply.status == 201
    await wait_for(lambda: _sent(provider))
    assert provider.sent == [{"to": "+447700900123", "text": "It ships today, Ada."}]

    forged = await client.session.post(
        bridge_server.make_url("/chorus"),
        data=b'{"message": {"contact_id": "+447700900123", "text": "phish"}}',
        headers={"X-Chorus-Timestamp": str(int(time.time())), "X-Chorus-Signature": "v1=00"},
    )
    assert forged.status == 401
    assert len(provider.sent) == 1
