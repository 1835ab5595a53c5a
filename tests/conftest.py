"""Shared fixtures: one SecantusDB server for the run, one database per test.

Tests talk to the hub through real sockets (``aiohttp_client`` serves the app on
loopback) and to the database through the MongoDB wire protocol.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pymongo import AsyncMongoClient, MongoClient

from hub.app import create_app
from hub.config import ChorusConfig, load_config
from hub.domain import utcnow
from hub.state import CONFIG, HUB, TOKENS
from storage.embedded import EmbeddedMongo

MakeClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[EmbeddedMongo]:
    server = EmbeddedMongo(":memory:")
    server.start(timeout=60)
    yield server
    server.stop()


@pytest.fixture
def mongo_uri(mongo_server: EmbeddedMongo) -> str:
    return mongo_server.uri


@pytest.fixture
def db_name() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def config(mongo_uri: str, db_name: str, tmp_path: Path) -> ChorusConfig:
    """A test configuration: the shared server, a fresh database, fast timings.

    The bot is off so channel and API tests see only what they send; the bot's own tests
    (tests/hub/bot/) turn it on.
    """
    cfg = load_config(
        None,
        environ={
            "CHORUS_MONGO__URI": mongo_uri,
            "CHORUS_MONGO__DATABASE": db_name,
            "CHORUS_AUTH__JWT_SECRET": "test-secret-" + "x" * 32,
            "CHORUS_AUTH__JWT_SECRET_FILE": str(tmp_path / "jwt_secret"),
            "CHORUS_MEDIA__LOCAL_DIR": str(tmp_path / "media"),
            "CHORUS_OUTBOX__BASE_DELAY_SECONDS": "0.05",
            "CHORUS_OUTBOX__POLL_SECONDS": "0.5",
            "CHORUS_HTTP__SHUTDOWN_GRACE_SECONDS": "2",
            # Tests scrape /metrics on the main port; tests/ops/test_metrics.py checks the
            # default, which refuses that without a token.
            "CHORUS_METRICS__PUBLIC": "true",
        },
    )
    cfg.bot.enabled = False
    return cfg


@pytest.fixture
async def db(mongo_uri: str, db_name: str) -> AsyncIterator[Any]:
    """Direct access to the test's database, for asserting what was stored."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    yield client[db_name]
    await client.drop_database(db_name)
    await client.close()


@pytest.fixture
async def make_client(aiohttp_client: Any, config: ChorusConfig) -> MakeClient:
    """Start the hub for ``config`` (optionally changed) and return an HTTP client to it."""

    async def make(cfg: ChorusConfig | None = None) -> TestClient[web.Request, web.Application]:
        client: TestClient[web.Request, web.Application] = await aiohttp_client(
            create_app(cfg or config)
        )
        return client

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> TestClient[web.Request, web.Application]:
    return await make_client()


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
    """Let post-write reactions (event listeners) finish."""
    await client.app[HUB].events.drain()
