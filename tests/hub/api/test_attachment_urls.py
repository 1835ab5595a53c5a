"""Attachment URLs are web links only: anything else is refused before it is stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.api import Client
from tests.helpers.hub import bearer


async def _conversation(client: Client, db: Any) -> str:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "hello", "client_id": "1"})
        while (frame := await ws.receive_json(timeout=10))["type"] != "ack":
            pass
    stored = await db.messages.find_one({"_id": frame["id"]})
    return str(stored["conversation_id"])


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "ftp://files.example/x",
    ],
)
async def test_a_reply_with_a_non_web_attachment_url_is_refused(client: Client, db, url) -> None:
    conversation_id = await _conversation(client, db)
    before = await db.messages.count_documents({})
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "see this", "attachments": [{"name": "x", "url": url}]},
        headers=bearer(client),
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "invalid_request"
    assert await db.messages.count_documents({}) == before


async def test_web_links_are_kept(client: Client, db) -> None:
    conversation_id = await _conversation(client, db)
    for url in ("https://files.example/a.pdf", "HTTP://files.example/b.png"):
        resp = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "see this", "attachments": [{"name": "a", "url": url}]},
            headers=bearer(client),
        )
        assert resp.status == 201, await resp.text()
        assert (await resp.json())["attachments"][0]["url"] == url


async def test_a_message_stored_before_the_rule_is_read_without_its_url(client: Client, db) -> None:
    conversation_id = await _conversation(client, db)
    stored = await db.messages.find_one({"conversation_id": conversation_id})
    legacy = [{"kind": "file", "name": "x", "url": "javascript:alert(1)"}]
    await db.messages.update_one({"_id": stored["_id"]}, {"$set": {"attachments": legacy}})
    resp = await client.get(f"/api/v1/messages/{stored['_id']}", headers=bearer(client))
    assert resp.status == 200
    attachment = (await resp.json())["attachments"][0]
    assert (attachment["name"], attachment["url"]) == ("x", None)
