"""Queries over a large inbox: listing conversations and paging messages through the API.

Populates N messages (default 1,000,000) in conversations of 20, the newest at the time
of the run (a live inbox), then times API requests (p50/p99) against the plain query
(``find(filter).sort(order).limit(51)``) sent straight to the database as the baseline,
checks with ``explain`` that each is served by an index, and counts with ``explain``
(``executionStats``) the documents the hub's own list queries examine for one page.
Run: ``python -m bench.queries [--messages 1000000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from bson import ObjectId
from pymongo import AsyncMongoClient

from bench.harness import FindRecorder, HubProcess, Row, database, message_doc, print_table
from bench.latency import _percentile
from hub.access.tokens import TokenService
from hub.config.model import load_config
from storage.filters import ConversationFilter
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client

PER_CONVERSATION = 20
SECRET = "bench-secret-" + "x" * 32


async def populate(uri: str, db_name: str, total: int) -> list[str]:
    store = MongoStore(make_client(uri), db_name, "1")
    conversations = max(1, total // PER_CONVERSATION)
    # The last conversation's last message a minute before now.
    start = datetime.now(UTC) - timedelta(seconds=conversations * 7 + PER_CONVERSATION + 60)
    conversation_ids = []
    statuses = ["bot", "open", "pending", "resolved"]
    conv_docs = []
    for c in range(conversations):
        cid = str(ObjectId())
        conversation_ids.append(cid)
        at = start + timedelta(seconds=c * 7)
        conv_docs.append(
            {
                "_id": cid,
                "contact_id": f"contact-{c}",
                "channel": "web",
                "thread_key": f"t{c}",
                "recipient_id": f"v{c}",
                "status": statuses[c % 4],
                "assignee": f"agent-{c % 25}",
                "labels": [],
                "route": {},
                "created_at": at,
                "updated_at": at,
                "last_message_at": at + timedelta(seconds=PER_CONVERSATION),
            }
        )
    for offset in range(0, len(conv_docs), 5000):
        await store.collection("conversations").insert_many(conv_docs[offset : offset + 5000])
    batch: list[dict[str, Any]] = []
    for c, cid in enumerate(conversation_ids):
        for m in range(PER_CONVERSATION):
            at = start + timedelta(seconds=c * 7 + m)
            batch.append(
                message_doc(
                    str(ObjectId.from_datetime(at))[:16] + f"{c * PER_CONVERSATION + m:08x}",
                    cid,
                    f"contact-{c}",
                    f"v{c}:{m}",
                    f"message {m} of conversation {c}",
                    at,
                    direction="inbound" if m % 2 == 0 else "outbound",
                )
            )
            if len(batch) == 5000:
                await store.collection("messages").insert_many(batch, ordered=False)
                batch = []
    if batch:
        await store.collection("messages").insert_many(batch, ordered=False)
    # Building the indexes once over the loaded data is several times faster than
    # maintaining them per insert; the measured queries run after either way.
    await store.ensure_indexes()
    await store.close()
    return conversation_ids


async def _time_requests(
    requests: list[tuple[str, dict[str, str]]], base: str, token: str
) -> list[float]:
    timings = []
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base) as session:
        # One untimed request first, here and for the direct queries, so neither figure
        # includes a first call's set-up.
        path, params = requests[0]
        async with session.get(path, params=params, headers=headers) as resp:
            await resp.read()
        for path, params in requests:
            t = time.perf_counter()
            async with session.get(path, params=params, headers=headers) as resp:
                assert resp.status == 200, await resp.text()
                await resp.read()
            timings.append(time.perf_counter() - t)
    return timings


async def _time_direct(
    uri: str, db_name: str, requests: list[tuple[str, dict[str, Any], list[Any]]]
) -> tuple[list[float], list[str]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    db = client[db_name]
    timings, plans = [], []
    coll, query, sort = requests[0]
    await db[coll].find(query).sort(sort).limit(51).to_list()  # untimed, as for the API
    for coll, query, sort in requests:
        t = time.perf_counter()
        await db[coll].find(query).sort(sort).limit(51).to_list()
        timings.append(time.perf_counter() - t)
    for coll, query, sort in requests[:1] + requests[-1:]:
        plan = (await db[coll].find(query).sort(sort).limit(51).explain())["queryPlanner"][
            "winningPlan"
        ]
        plans.append(str(plan))
    await client.close()
    return timings, [
        "IXSCAN" if "IXSCAN" in p and "COLLSCAN" not in p else "COLLSCAN" for p in plans
    ]


async def _examined(uri: str, db_name: str, status: str, page: int) -> list[tuple[int, int]]:
    """(documents examined, queries) for the hub's list query of one status: the first
    page in a fresh store, the first page again, and the page after it."""
    finds = FindRecorder("conversations")
    mongo = MongoStore(make_client(uri, event_listeners=[finds]), db_name, "1")
    store = InboxStore(mongo)
    counts = []
    cursor = None
    for step in ("cold", "warm", "next"):
        _, next_cursor = await store.list_conversations(
            ConversationFilter(status=status), page, cursor if step == "next" else None
        )
        cursor = next_cursor
        counts.append(await finds.examined(mongo.db))
    await mongo.close()
    return counts


def run(total: int, samples: int) -> list[Row]:
    rng = random.Random(7)
    rows = []
    with database() as server:
        started = time.perf_counter()
        ids = asyncio.run(populate(server.uri, "bench", total))
        fill = time.perf_counter() - started
        token = TokenService(
            load_config(None, environ={"CHORUS_AUTH__JWT_SECRET": SECRET}).auth
        ).issue("bench", "admin", 3600)
        picks = [rng.choice(ids) for _ in range(samples)]
        statuses = [rng.choice(["open", "pending", "resolved"]) for _ in range(samples)]
        with HubProcess(server.uri, database="bench") as hub:
            hub.add_agent("bench", "admin")
            listing = asyncio.run(
                _time_requests(
                    [("/api/v1/conversations", {"status": s, "limit": "50"}) for s in statuses],
                    hub.base_url,
                    token,
                )
            )
            paging = asyncio.run(
                _time_requests(
                    [(f"/api/v1/conversations/{c}/messages", {"limit": "50"}) for c in picks],
                    hub.base_url,
                    token,
                )
            )
        direct_list, plans_list = asyncio.run(
            _time_direct(
                server.uri,
                "bench",
                [
                    ("conversations", {"status": s}, [("last_message_at", -1), ("_id", -1)])
                    for s in statuses
                ],
            )
        )
        direct_page, plans_page = asyncio.run(
            _time_direct(
                server.uri,
                "bench",
                [("messages", {"conversation_id": c}, [("_id", 1)]) for c in picks],
            )
        )
        examined = asyncio.run(_examined(server.uri, "bench", "open", 50))
    for name, api, direct, plans in (
        ("list conversations", listing, direct_list, plans_list),
        ("page messages", paging, direct_page, plans_page),
    ):
        for q in (0.5, 0.99):
            rows.append(
                Row(
                    f"{name} p{int(q * 100)} ({total:,} msgs)",
                    _percentile(api, q) * 1000,
                    "ms",
                    _percentile(direct, q) * 1000,
                    "/".join(sorted(set(plans))),
                )
            )
    (cold, cold_n), (warm, warm_n), (after, after_n) = examined
    rows.append(
        Row(
            "list conversations, docs examined",
            warm,
            "docs",
            50,
            f"page of 50, {warm_n} queries; fresh store {cold} in {cold_n}; "
            f"next page {after} in {after_n}",
        )
    )
    rows.append(Row("populate inbox", total / fill, "msg/s", None, f"{fill:.0f}s"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    print_table(run(args.messages, args.samples))


if __name__ == "__main__":
    main()
