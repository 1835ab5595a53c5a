"""Shared fixtures: one SecantusDB server for the run, one database per test.

Tests talk to the hub through real sockets (``aiohttp_client`` serves the app on
loopback) and to the database through the MongoDB wire protocol.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pymongo import AsyncMongoClient

from hub.app import create_app
from hub.config.model import ChorusConfig, load_config
from storage.embedded import EmbeddedMongo
from tests.helpers.hub import MakeClient
from tests.helpers.webhooks import Receiver


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
            # Tests scrape /metrics on the main port; tests/hub/ops/test_metrics.py checks the
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


@pytest.fixture
async def receiver(aiohttp_server: Any) -> Any:
    """An integrator's webhook endpoint (tests.helpers.webhooks.Receiver), served on loopback."""
    found = Receiver()
    server = await aiohttp_server(found.app)
    found.url = str(server.make_url("/hook"))
    yield found
    found.release.set()
