"""The database stops mid-run: handlers answer a JSON 503 with a stable code, and what the
hub hands its adapters is the hub's own error, never the driver's."""

from __future__ import annotations

from pathlib import Path

import pytest
from pymongo.errors import PyMongoError

from hub.config.model import ChorusConfig
from hub.errors import StorageUnavailable
from hub.state import HUB
from storage.embedded import EmbeddedMongo
from tests.helpers.hub import MakeClient, bearer


async def test_a_stopped_database_is_a_503_and_the_hubs_own_error(
    tmp_path: Path, config: ChorusConfig, make_client: MakeClient
) -> None:
    database = EmbeddedMongo(tmp_path / "db")
    await database.astart()
    config.mongo.uri = database.uri
    config.mongo.server_selection_timeout_ms = 300
    client = await make_client(config)
    try:
        headers = bearer(client, "ada", "admin")
        assert (await client.get("/api/v1/conversations", headers=headers)).status == 200

        await database.astop()

        for path in ("/api/v1/conversations", "/api/v1/sync/digest?conversation=c1"):
            resp = await client.get(path, headers=headers)
            assert resp.status == 503, path
            assert resp.content_type == "application/json"
            body = await resp.json()
            assert body["error"]["code"] == "storage_unavailable"
            assert body["error"]["message"] == "the database is unavailable, retry"
        # What adapters call (the web chat's gap fill, Slack's thread header) raises the
        # hub's error type: an adapter catching StorageError needs no pymongo.
        with pytest.raises(StorageUnavailable) as raised:
            await client.app[HUB].recent_messages("c1", 5)
        assert not isinstance(raised.value, PyMongoError)
        with pytest.raises(StorageUnavailable):
            await client.app[HUB].conversation_messages("c1", 0, 5)
    finally:
        # Back on the same address before the hub stops, as an operator would bring it.
        restarted = EmbeddedMongo(tmp_path / "db", port=database.port)
        await restarted.astart()
        await client.close()
        await restarted.astop()
