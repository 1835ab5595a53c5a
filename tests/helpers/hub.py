"""Talking to a hub under test: tokens for agents, waiting for a condition, settling."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from pymongo import MongoClient

from hub.config.model import ChorusConfig
from hub.domain import utcnow
from hub.state import CONFIG, HUB, TOKENS
from hub.sync.inbox_relay import INBOX_RELAY

MakeClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


def bearer(
    client: TestClient[web.Request, web.Application], sub: str = "alice", role: str = "agent"
) -> dict[str, str]:
    """A token for ``sub``, who is made an agent first: the API refuses tokens naming nobody."""
    ensure_agent(client.app[CONFIG], sub, "admin" if role == "admin" else "agent")
    token = client.app[TOKENS].issue(sub, role)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


_SYNC_CLIENTS: dict[str, MongoClient[dict[str, Any]]] = {}


def ensure_agent(config: ChorusConfig, agent_id: str, role: str = "agent") -> None:
    """Insert the agent unless it exists. Synchronous (a loopback round trip) so that the
    many ``headers=bearer(client)`` call sites stay plain expressions."""
    mongo = _SYNC_CLIENTS.get(config.mongo.uri)
    if mongo is None:
        mongo = _SYNC_CLIENTS[config.mongo.uri] = MongoClient(config.mongo.uri)
    mongo[config.mongo.database]["agents"].update_one(
        {"_id": agent_id},
        {"$setOnInsert": {"name": agent_id, "role": role, "created_at": utcnow()}},
        upsert=True,
    )


async def wait_for(predicate: Callable[[], Awaitable[Any]], within: float = 10.0) -> Any:
    """Poll an async condition until it is truthy; fail the test if it never is."""
    async with asyncio.timeout(within):
        while True:
            value = await predicate()
            if value:
                return value
            await asyncio.sleep(0.02)


async def settle(client: TestClient[web.Request, web.Application]) -> None:
    """Let post-write reactions (event listeners) finish, and the agents' feed show them
    (it shows this process's changes once the change stream brings them back)."""
    await client.app[HUB].events.drain()
    if INBOX_RELAY in client.app:
        await client.app[INBOX_RELAY].settled()
