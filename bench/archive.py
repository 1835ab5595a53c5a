"""Backup, restore and archive throughput: documents/s and MB/s.

    python -m bench.archive [--conversations 2000] [--messages 20] [--store local|s3]

Populates an on-disk SecantusDB with N conversations of M messages each (plus contacts),
then times a full backup, a restore into an empty database (with its digest check), an
archive run of every conversation and a range restore of them. ``--store s3`` uses moto's
S3 server on loopback instead of a local directory. MB are uncompressed BSON.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bson import encode

from hub.config.model import S3ArchiveConfig
from hub.domain import new_id, utcnow
from storage.archive_store import ArchiveStore, LocalArchiveStore, S3ArchiveStore
from storage.archiver import Archiver
from storage.backup import BackupService
from storage.embedded import EmbeddedMongo
from storage.mongo import MongoStore, make_client
from storage.progress import Progress


def documents(conversations: int, messages: int) -> dict[str, list[dict[str, Any]]]:
    old = utcnow() - timedelta(days=400)
    data: dict[str, list[dict[str, Any]]] = {"contacts": [], "conversations": [], "messages": []}
    for n in range(conversations):
        contact, conversation = new_id(), new_id()
        data["contacts"].append(
            {
                "_id": contact,
                "name": f"Visitor {n}",
                "created_at": old,
                "identities": [{"channel": "web", "external_id": f"v{n}"}],
                "identity_keys": [f"web:v{n}"],
            }
        )
        data["conversations"].append(
            {
                "_id": conversation,
                "contact_id": contact,
                "channel": "web",
                "thread_key": contact,
                "recipient_id": contact,
                "status": "resolved",
                "assignee": "alice",
                "labels": ["billing"],
                "route": {},
                "created_at": old,
                "updated_at": old,
                "last_message_at": old,
            }
        )
        for m in range(messages):
            data["messages"].append(
                {
                    "_id": new_id(),
                    "conversation_id": conversation,
                    "contact_id": contact,
                    "channel": "web",
                    "external_id": f"{conversation}-{m}",
                    "direction": "inbound" if m % 2 == 0 else "outbound",
                    "author": {"kind": "contact", "id": contact, "name": f"Visitor {n}"},
                    "text": f"Message {m}: my order has not arrived yet, can you check? " * 2,
                    "attachments": [],
                    "created_at": old,
                    "private": False,
                    "raw": {"seq": m},
                }
            )
    return data  # fmt: skip


async def timed(label: str, docs: int, nbytes: int, work: Callable[[], Awaitable[Any]]) -> Any:
    started = time.perf_counter()
    result = await work()
    seconds = time.perf_counter() - started
    print(
        f"{label:<22} {docs:>8} docs  {nbytes / 1e6:>7.1f} MB  {seconds:>6.2f} s  "
        f"{docs / seconds:>9.0f} docs/s  {nbytes / 1e6 / seconds:>6.2f} MB/s"
    )
    return result


async def run(args: argparse.Namespace, uri: str, store: ArchiveStore) -> None:
    mongo = MongoStore(make_client(uri), "bench")
    await mongo.ensure_indexes()
    data = documents(args.conversations, args.messages)
    for name, docs in data.items():
        await mongo.collection(name).insert_many(docs)
    total = sum(len(docs) for docs in data.values())
    nbytes = sum(len(encode(doc)) for docs in data.values() for doc in docs)
    quiet = Progress("", interval=3600)
    service = BackupService(mongo.db, store)
    full = await timed("full backup", total, nbytes, lambda: service.full(quiet))
    target = mongo.client.get_database("bench_restored")
    result = await timed(
        "restore + verify", total, nbytes, lambda: service.restore(target, full["id"], None, quiet)
    )
    assert result.ok, result.collections
    archiver = Archiver(mongo, store, after_days=30, delete_after_archive=True, batch_limit=10**9)
    archived = len(data["conversations"]) + len(data["messages"])
    archived_bytes = nbytes - sum(len(encode(doc)) for doc in data["contacts"])
    await timed("archive run", archived, archived_bytes, archiver.run)
    start, end = utcnow() - timedelta(days=800), utcnow()
    restore_range = lambda: archiver.restore_range(start, end)  # noqa: E731
    await timed("archive range restore", archived, archived_bytes, restore_range)
    await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--store", choices=["local", "s3"], default="local")
    args = parser.parse_args()
    print(f"{args.conversations} conversations x {args.messages} messages, {args.store} store")
    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
        server = EmbeddedMongo(os.path.join(tmp, "db"))
        server.start(timeout=60)
        moto = None
        try:
            if args.store == "s3":
                import boto3
                from moto.server import ThreadedMotoServer

                logging.getLogger("werkzeug").setLevel(logging.ERROR)  # per-request lines
                moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
                moto.start()
                host, port = moto.get_host_and_port()
                for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                    os.environ.setdefault(key, "bench")
                endpoint = f"http://{host}:{port}"
                boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
                    Bucket="bench"
                )
                config = S3ArchiveConfig(bucket="bench", region="us-east-1", endpoint_url=endpoint)
                store: ArchiveStore = S3ArchiveStore(config)
            else:
                store = LocalArchiveStore(Path(tmp) / "archive")
            asyncio.run(run(args, server.uri, store))
        finally:
            if moto is not None:
                moto.stop()
            server.stop()


if __name__ == "__main__":
    main()
