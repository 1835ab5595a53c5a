"""Arranging a person's data across the hub: messages with raw payloads, an email, a web
comment, a rating, an archived conversation; and reading every place it might remain."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from bson import json_util

from hub.core.media import MEDIA
from hub.domain import Attachment, InboundMessage
from hub.state import HUB, MONGO, TOKENS
from storage.archive_store import ArchiveStore
from storage.archiver import Archiver
from storage.bot import BotStore
from storage.jsonl import decode_lines
from tests.helpers.media import form

Client = TestClient[web.Request, web.Application]


async def customer_uploads(client: Client, visitor: str, name: str, data: bytes) -> Attachment:
    """A web customer's file through the widget's upload endpoint, as the hub stored it."""
    token = client.app[TOKENS].issue_visitor(visitor)
    resp = await client.post(
        "/chat/uploads", data=form((name, data)), headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 201, await resp.text()
    record = await client.app[MEDIA].record((await resp.json())["media_id"])
    assert record is not None
    return record.attachment


async def customer_writes(
    client: Client,
    visitor: str,
    name: str,
    text: str,
    key: str,
    *,
    attachment: bool = False,
    files: tuple[Attachment, ...] = (),
) -> Any:
    """A web customer's message as the web adapter hands it over, raw payload included;
    ``files`` are uploads (``customer_uploads``) the message carries."""
    link = Attachment(kind="image", name=f"{name}-passport.png", url="https://files.example/p.png")
    attachments = ((link,) if attachment else ()) + files
    result = await client.app[HUB].receive(
        InboundMessage(
            channel="web",
            external_id=key,
            sender_id=visitor,
            sender_name=name,
            thread_key=f"{visitor}-thread-{key[:1]}",
            text=text,
            attachments=attachments,
            raw={"said": text, "who": name},
        )
    )
    await client.app[HUB].events.drain()
    await client.app[HUB].writer.settle()
    return result


async def rate(client: Client, conversation_id: str, contact_id: str, score: int) -> None:
    await BotStore(client.app[MONGO]).save_rating(conversation_id, contact_id, score, None)


async def resolve_and_archive(
    client: Client, db: Any, store: ArchiveStore, conversation_ids: list[str]
) -> None:
    """Resolve the conversations and archive them (deleted from MongoDB afterwards)."""
    await db.conversations.update_many(
        {"_id": {"$in": conversation_ids}},
        {"$set": {"status": "resolved"}, "$unset": {"open_key": ""}},
    )
    archiver = Archiver(client.app[MONGO], store, after_days=0, delete_after_archive=True)
    report = await archiver.run()
    assert report.conversations == len(conversation_ids)


async def database_text(db: Any) -> str:
    """Every document of every collection, as one string to search."""
    parts = []
    for name in sorted(await db.list_collection_names()):
        async for doc in db[name].find({}):
            parts.append(json_util.dumps(doc))
    return "\n".join(parts)


async def archive_text(store: ArchiveStore) -> str:
    """Every archive object decoded (gzip'd JSON Lines, manifests), as one string."""
    parts = []
    for key in await store.list("archive/"):
        data = await store.get(key)
        if key.endswith(".jsonl.gz"):
            parts.extend(json_util.dumps(r) for r in decode_lines(data))
        else:
            parts.append(json.dumps(json.loads(data)))
    return "\n".join(parts)
