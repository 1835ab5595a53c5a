"""Archive-store fixtures: moto's S3 server on loopback (started here), or a directory."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from hub.config.model import S3ArchiveConfig
from hub.domain import Message
from storage.archive_store import ArchiveStore, LocalArchiveStore, S3ArchiveStore
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials for moto through boto3's ordinary environment chain."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def s3_config(s3_endpoint: str, s3_env: None) -> S3ArchiveConfig:
    bucket = f"chorus-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return S3ArchiveConfig(
        bucket=bucket, prefix="hub/", region="us-east-1", endpoint_url=s3_endpoint, sse="AES256"
    )


@pytest.fixture(params=["local", "s3"])
def archive_store(request: pytest.FixtureRequest, tmp_path: Path) -> ArchiveStore:
    if request.param == "local":
        return LocalArchiveStore(tmp_path / "archive")
    return S3ArchiveStore(request.getfixturevalue("s3_config"))


def corrupt(store: ArchiveStore, key: str) -> None:
    """Flip bytes of a stored object behind the store's back (disk rot, a bad copy)."""
    if isinstance(store, LocalArchiveStore):
        path = store.root / key
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        return
    assert isinstance(store, S3ArchiveStore)
    bucket, full_key = store.config.bucket, store.config.prefix + key
    head = store.client.head_object(Bucket=bucket, Key=full_key)
    body = bytearray(store.client.get_object(Bucket=bucket, Key=full_key)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    store.client.put_object(
        Bucket=bucket, Key=full_key, Body=bytes(body), Metadata=head["Metadata"]
    )


@pytest.fixture
async def mongo(mongo_uri: str, db_name: str) -> AsyncIterator[MongoStore]:
    store = MongoStore(make_client(mongo_uri), db_name)
    await store.ensure_indexes()
    yield store
    await store.close()


async def populate(inbox: InboxStore, conversations: int, messages: int, **raw: Any) -> list[str]:
    """Conversations with messages through the inbox store, the way the hub writes them."""
    from hub.domain import Author, Identity, new_id, utcnow

    ids = []
    for n in range(conversations):
        contact = await inbox.upsert_contact(
            Identity(channel="web", external_id=f"v{n}-{new_id()}"), f"Visitor {n}"
        )
        conversation, _ = await inbox.open_conversation(
            contact.id, "web", contact.id, contact.id, {"socket": n}
        )
        for m in range(messages):
            message = Message(
                id=new_id(), conversation_id=conversation.id, contact_id=contact.id, channel="web",
                external_id=f"{conversation.id}-{m}", direction="inbound",
                author=Author(kind="contact", id=contact.id, name=f"Visitor {n}"),
                text=f"message {m} — ünïcode ✓", created_at=utcnow(), raw={"n": m, **raw},
            )  # fmt: skip
            await inbox.insert_message(message)
        ids.append(conversation.id)
    return ids
