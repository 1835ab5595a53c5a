"""The database stops while X is polled: the poller sees the hub's storage error (it imports
no pymongo), records it on the stream and keeps polling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage.embedded import EmbeddedMongo
from tests.helpers.hub import wait_for
from tests.helpers.twitter import CUSTOMER_ID, adapter_of


async def test_a_stopped_database_is_a_storage_error_on_the_polled_stream(
    tmp_path: Path, make_client: Any, twitter_config: Any, twitter_api: Any
) -> None:
    database = EmbeddedMongo(tmp_path / "db")
    await database.astart()
    cfg = twitter_config()
    cfg.mongo.uri = database.uri
    cfg.mongo.server_selection_timeout_ms = 300
    twitter_api.add_mention(CUSTOMER_ID, "@acme before")
    client = await make_client(cfg)
    try:

        async def stream() -> dict[str, Any]:
            status: dict[str, Any] = adapter_of(client).status()["streams"]["mentions"]
            return status

        async def polled_cleanly() -> bool:
            status = await stream()
            return status["last_poll_at"] is not None and status["last_error"] is None

        await wait_for(polled_cleanly, within=30)
        await database.astop()
        twitter_api.add_mention(CUSTOMER_ID, "@acme during")

        async def failed() -> dict[str, Any] | None:
            status = await stream()
            return status if status["last_error"] else None

        status = await wait_for(failed, within=30)
        assert status["last_error"].startswith("StorageUnavailable: "), status["last_error"]
    finally:
        # Back on the same address before the hub stops, as an operator would bring it.
        restarted = EmbeddedMongo(tmp_path / "db", port=database.port)
        await restarted.astart()
        await client.close()
        await restarted.astop()
