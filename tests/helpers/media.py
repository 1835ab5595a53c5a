"""Files for media tests: a PDF, an executable, PNGs, multipart forms, uploads."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.helpers.hub import bearer

Client = TestClient[web.Request, web.Application]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXECUTABLE = b"MZ\x90\x00\x03" + b"\x00" * 200


def png(width: int = 800, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def form(*files: tuple[str, bytes], **fields: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    for name, value in fields.items():
        data.add_field(name, value)
    for filename, content in files:
        data.add_field("file", content, filename=filename, content_type="application/octet-stream")
    return data


async def conversation(client: Client, visitor_text: str = "hello") -> str:
    """A web visitor's new conversation (its id)."""
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": visitor_text, "client_id": "1"})
        while (frame := await ws.receive_json(timeout=10))["type"] != "ack":
            pass
    resp = await client.get(f"/api/v1/messages/{frame['id']}", headers=bearer(client))
    return str((await resp.json())["conversation_id"])


async def upload(client: Client, conversation_id: str, name: str, data: bytes) -> Any:
    return await client.post(
        f"/api/v1/conversations/{conversation_id}/attachments",
        data=form((name, data)),
        headers=bearer(client),
    )


async def stored_counts(db: Any, tmp_path: Any) -> tuple[int, int, int]:
    """Media records, messages and stored files: what a refused upload must not add to."""
    files = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    return await db.media.count_documents({}), await db.messages.count_documents({}), len(files)
