"""Sync fixtures: inbox content arranged through the hub, and a second database server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.domain import InboundMessage
from hub.state import HUB
from storage.embedded import EmbeddedMongo

Client = TestClient[web.Request, web.Application]


@pytest.fixture(scope="session")
def replica_server() -> Iterator[EmbeddedMongo]:
    """A second SecantusDB server: the replica target."""
    server = EmbeddedMongo(":memory:")
    server.start(timeout=60)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def short_history_server() -> Iterator[EmbeddedMongo]:
    """A server that keeps only a few oplog entries, so old cursors expire."""
    server = EmbeddedMongo(":memory:", extra_args=["--oplog-max-entries", "20"])
    server.start(timeout=60)
    yield server
    server.stop()


async def customer_says(client: Client, visitor: str, text: str, key: str | None = None) -> Any:
    """A web customer's message, received by the hub as the web adapter would hand it over.

    Returns once the inbox is quiet again (reactions done, recency refreshed), so feeds
    read in a test see every write the message caused.
    """
    result = await client.app[HUB].receive(
        InboundMessage(
            channel="web",
            external_id=f"{visitor}:{key or text}",
            sender_id=visitor,
            sender_name=visitor.title(),
            thread_key=visitor,
            text=text,
        )
    )
    await client.app[HUB].events.drain()  # reactions (routing) land first
    await client.app[HUB].writer.settle()
    return result
