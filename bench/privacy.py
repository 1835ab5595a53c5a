"""Export and erasure of one contact with a long history: time and peak memory.

    python -m bench.privacy [--messages 20000] [--conversations 4]

Loads one contact with N messages spread over C conversations into an in-memory
SecantusDB, streams the export (discarding the bytes) under ``tracemalloc``, then erases
the contact. Peak memory should stay flat as N grows: the export holds one page.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.harness import database, message_doc
from hub.domain import new_id, utcnow
from hub.privacy.requests import ContactErasure, ContactExport
from storage.archive_store import LocalArchiveStore
from storage.mongo import MongoStore, make_client


async def run(messages: int, conversations: int) -> None:
    with database(on_disk=False) as server, tempfile.TemporaryDirectory() as tmp:
        mongo = MongoStore(make_client(server.uri), "bench")
        await mongo.ensure_indexes()
        contact = new_id()
        now = utcnow()
        await mongo.collection("contacts").insert_one(
            {
                "_id": contact,
                "name": "Bench Person",
                "email": "bench@example.org",
                "identities": [],
                "identity_keys": ["web:bench"],
                "created_at": now,
            }
        )
        per = messages // conversations
        for c in range(conversations):
            cid = new_id()
            await mongo.collection("conversations").insert_one(
                {
                    "_id": cid,
                    "contact_id": contact,
                    "channel": "web",
                    "thread_key": f"t{c}",
                    "recipient_id": "bench",
                    "status": "open",
                    "created_at": now,
                    "updated_at": now,
                    "last_message_at": now,
                    "last_seq": per,
                }
            )
            docs = [
                message_doc(new_id(), cid, contact, f"{c}-{n}", f"message {n} " + "x" * 200, now)
                | {"seq": n + 1}
                for n in range(per)
            ]
            for start in range(0, len(docs), 5000):
                await mongo.collection("messages").insert_many(docs[start : start + 5000])
        store = LocalArchiveStore(Path(tmp))
        export = ContactExport(mongo, store)
        tracemalloc.start()
        started = time.perf_counter()
        size = 0
        async for chunk in export.stream(await export.contact(contact)):
            size += len(chunk)
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"export: {messages} messages, {size / 1e6:.1f} MB in {took:.2f}s "
            f"({messages / took:.0f} msg/s), peak Python memory {peak / 1e6:.1f} MB"
        )
        erasure = ContactErasure(mongo, store, backups_days=35)
        started = time.perf_counter()
        report = await erasure.erase(contact, by="bench", role="admin", reason="bench")
        took = time.perf_counter() - started
        print(
            f"erase: {report.messages} messages in {took:.2f}s ({report.messages / took:.0f} msg/s)"
        )
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--conversations", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.conversations))


if __name__ == "__main__":
    main()
