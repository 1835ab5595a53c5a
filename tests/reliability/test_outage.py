"""The database goes away for ten seconds and comes back; the hub copes by itself."""

from __future__ import annotations

import asyncio
from typing import Any

from hub.config.model import ChorusConfig
from storage.embedded import EmbeddedMongo
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.helpers.hub import bearer, wait_for
from tests.helpers.telegram import post_update, telegram_config, text_update

OUTAGE_SECONDS = 10.0


async def _frame(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=15)
        if frame["type"] == kind:
            return frame


async def test_database_outage_is_survived_without_restart(
    tmp_path, config: ChorusConfig, aiohttp_server, make_client
) -> None:
    database = EmbeddedMongo(tmp_path / "db")
    await database.astart()
    fake = FakeTelegramAPI()
    telegram = await aiohttp_server(fake.app)
    cfg = telegram_config(config, telegram, fake.token)
    cfg.mongo.uri = database.uri
    cfg.mongo.server_selection_timeout_ms = 1000
    client = await make_client(cfg)
    restarted: EmbeddedMongo | None = None
    try:
        async with client.ws_connect("/chat") as ws:
            await ws.send_json({"type": "message", "text": "before", "client_id": "a"})
            before = await _frame(ws, "ack")

            await database.astop()  # the outage begins
            loop = asyncio.get_running_loop()
            down_since = loop.time()

            await ws.send_json({"type": "message", "text": "during", "client_id": "b"})
            refused = await _frame(ws, "error")
            assert refused["code"] == "storage_unavailable" and refused["temporary"] is True

            resp = await post_update(client, text_update(9001, "during outage"))
            assert resp.status == 503  # so Telegram delivers it again later

            while loop.time() - down_since < OUTAGE_SECONDS:
                resp = await client.get("/readyz")
                assert resp.status == 503
                assert (await resp.json())["checks"]["mongo"] == "unreachable"

            restarted = EmbeddedMongo(tmp_path / "db", port=database.port)
            await restarted.astart()  # the database comes back on the same address

            async def ready() -> bool:
                return (await client.get("/readyz")).status == 200

            await wait_for(ready, within=30)

            # The customer resends what was refused; Telegram redelivers its update.
            await ws.send_json({"type": "message", "text": "during", "client_id": "b"})
            during = await _frame(ws, "ack")
            resp = await post_update(client, text_update(9001, "during outage"))
            assert resp.status == 200

        resp = await client.get("/api/v1/messages", headers=bearer(client))
        texts = sorted(m["text"] for m in (await resp.json())["items"])
        assert texts == ["before", "during", "during outage"]
        ids = {m["id"] for m in (await resp.json())["items"]}
        assert {before["id"], during["id"]} <= ids
    finally:
        await client.close()
        if restarted is not None:
            await restarted.astop()
        await database.astop()
