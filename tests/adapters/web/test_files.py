"""Files from the web chat: ``POST /chat/uploads`` with the visitor token, then a message
frame naming the upload; what a stranger gets from each."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientWebSocketResponse

from hub.core.media import MEDIA
from tests.helpers.media import EXECUTABLE, PDF, form, png, stored_counts
from tests.helpers.web_chat import next_frame


async def _visitor(ws: ClientWebSocketResponse) -> str:
    await ws.send_json({"type": "hello"})
    return str((await next_frame(ws, "welcome"))["visitor_token"])


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_visitor_sends_an_image_and_sees_it_with_links(client: Any, db: Any) -> None:
    async with client.ws_connect("/chat") as ws:
        token = await _visitor(ws)
        resp = await client.post(
            "/chat/uploads", data=form(("tent.png", png())), headers=_auth(token)
        )
        assert resp.status == 201, await resp.text()
        uploaded = await resp.json()
        assert uploaded["thumbnail_url"] and "storage_key" not in uploaded
        await ws.send_json(
            {
                "type": "message",
                "text": "",
                "client_id": "f1",
                "attachments": [uploaded["media_id"]],
            }
        )
        ack = await next_frame(ws, "ack")
        await ws.send_json({"type": "history"})
        history = await next_frame(ws, "history")
    stored = await db.messages.find_one({"_id": ack["id"]})
    assert stored["attachments"][0]["media_id"] == uploaded["media_id"]
    assert stored["attachments"][0]["storage_key"].startswith("media/")
    (shown,) = history["messages"][0]["attachments"]
    assert "storage_key" not in shown and "sha256" not in shown
    assert (await client.get(shown["thumbnail_url"])).status == 200


async def test_strangers_and_bad_files_store_nothing(client: Any, db: Any, tmp_path: Any) -> None:
    async with client.ws_connect("/chat") as ws:
        token = await _visitor(ws)
        other = await (await client.post("/chat/uploads", data=form(("a.pdf", PDF)),
                                          headers=_auth(await _other_visitor(client)))).json()  # fmt: skip
        before = await stored_counts(db, tmp_path)
        cases = [
            ({}, ("a.png", png()), 401, "missing_token"),
            (_auth("forged.token.value"), ("a.png", png()), 401, "invalid_visitor_token"),
            (_auth(token), ("cat.png", EXECUTABLE), 415, "unsupported_media_type"),
            (_auth(token), ("x.pdf", PDF + b"0" * client.app[MEDIA].max_bytes), 413,
             "file_too_large"),
        ]  # fmt: skip
        for headers, file, status, code in cases:
            resp = await client.post("/chat/uploads", data=form(file), headers=headers)
            assert (resp.status, (await resp.json())["error"]["code"]) == (status, code), file[0]
        # Another visitor's upload cannot be sent as one's own.
        await ws.send_json(
            {"type": "message", "text": "", "client_id": "s1", "attachments": [other["media_id"]]}
        )
        error = await next_frame(ws, "error")
        assert (error["code"], error["client_id"]) == ("unknown_attachment", "s1")
    assert await stored_counts(db, tmp_path) == before


async def _other_visitor(client: Any) -> str:
    async with client.ws_connect("/chat") as ws:
        return await _visitor(ws)
