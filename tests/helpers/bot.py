"""Fixtures for the bot over the web channel: the shipped sample knowledge base, a
customer on a real /chat socket, and agents with tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, web
from aiohttp.test_utils import TestClient

from hub.config.model import ChorusConfig
from hub.config.model import _merge as merge
from tests.helpers.hub import bearer, wait_for

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_KB = ROOT / "knowledge" / "faq.yaml"

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def config(config: ChorusConfig) -> ChorusConfig:
    config.bot.enabled = True
    config.bot.knowledge_files = [SAMPLE_KB]
    return config


@pytest.fixture
def client_factory(make_client: Any, config: ChorusConfig) -> Any:
    """Start the hub with some ``bot`` settings changed."""

    async def make(**bot: Any) -> Client:
        data = merge(config.model_dump(), {"bot": bot})
        client: Client = await make_client(ChorusConfig.model_validate(data))
        return client

    return make


class Customer:
    """A visitor on the web chat socket, speaking the documented frames."""

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.ws = ws
        self.sent = 0
        self.visitor_token = ""

    async def frame(self, kind: str) -> dict[str, Any]:
        while True:
            frame = await self.ws.receive_json(timeout=10)
            if frame["type"] == kind:
                return frame

    async def hello(self, token: str | None = None) -> None:
        await self.ws.send_json({"type": "hello", "name": "Ada", "visitor_token": token})
        self.visitor_token = (await self.frame("welcome"))["visitor_token"]

    async def say(self, text: str) -> dict[str, Any]:
        self.sent += 1
        await self.ws.send_json({"type": "message", "text": text, "client_id": f"c{self.sent}"})
        return await self.frame("ack")

    async def hear(self) -> dict[str, Any]:
        """The next message pushed to the customer (a bot or agent reply)."""
        return await self.frame("message")


@asynccontextmanager
async def chatting(client: Client) -> AsyncIterator[Customer]:
    """A new visitor on a /chat socket, greeted with a visitor token."""
    async with client.ws_connect("/chat") as ws:
        person = Customer(ws)
        await person.hello()
        yield person


@pytest.fixture
async def customer(client: Client) -> AsyncIterator[Customer]:
    async with chatting(client) as person:
        yield person


async def conversation_of(client: Client, message_id: str) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/messages/{message_id}", headers=bearer(client))
    conversation_id = (await resp.json())["conversation_id"]
    resp = await client.get(f"/api/v1/conversations/{conversation_id}", headers=bearer(client))
    assert resp.status == 200
    data: dict[str, Any] = await resp.json()
    return data


async def transitions(
    client: Client, conversation_id: str, at_least: int = 1
) -> list[dict[str, Any]]:
    """The conversation's recorded transitions, once there are ``at_least`` of them
    (they are written by an inbox listener, just after the change itself)."""

    async def recorded() -> list[dict[str, Any]] | None:
        resp = await client.get(
            f"/api/v1/conversations/{conversation_id}/events", headers=bearer(client)
        )
        assert resp.status == 200
        items: list[dict[str, Any]] = (await resp.json())["items"]
        return items if len(items) >= at_least else None

    result: list[dict[str, Any]] = await wait_for(recorded)
    return result


async def wait_for_status(
    client: Client, conversation_id: str, status: str, assignee: str | None = None
) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        resp = await client.get(f"/api/v1/conversations/{conversation_id}", headers=bearer(client))
        data: dict[str, Any] = await resp.json()
        ok = data["status"] == status and (assignee is None or data["assignee"] == assignee)
        return data if ok else None

    result: dict[str, Any] = await wait_for(reached)
    return result


async def go_online(client: Client, agent_id: str) -> dict[str, Any]:
    resp = await client.put(
        f"/api/v1/agents/{agent_id}/status",
        json={"online": True},
        headers=bearer(client, sub=agent_id),
    )
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data


async def resolve(client: Client, conversation_id: str, agent_id: str = "alice") -> None:
    resp = await client.patch(
        f"/api/v1/conversations/{conversation_id}",
        json={"status": "resolved"},
        headers=bearer(client, sub=agent_id),
    )
    assert resp.status == 200, await resp.text()
