"""Durable ingest: N web customers send over /chat and wait for each ack.

Baseline: the same number of documents written straight to the same database with
batched ``insert_many``. A second row compares with ``insert_many`` of message-shaped
documents into a collection carrying the hub's own indexes, the storage limit the hub's
schema can reach. Run: ``python -m bench.ingest [--customers 100] [--messages 20] [--bot]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime

import aiohttp
from pymongo import AsyncMongoClient

from bench.harness import HubProcess, Row, database, message_doc, print_table
from hub.domain import new_id
from storage.mongo import MongoStore, make_client


async def _customer(session: aiohttp.ClientSession, url: str, messages: int) -> int:
    acked = 0
    async with session.ws_connect(url, max_msg_size=0) as ws:
        for n in range(messages):
            await ws.send_json({"type": "message", "text": f"message {n}", "client_id": f"c{n}"})
            while True:
                frame = await ws.receive_json()
                if frame["type"] == "ack":
                    acked += 1
                    break
                if frame["type"] == "error":
                    raise RuntimeError(frame)
    return acked


async def hub_ingest(base_url: str, customers: int, messages: int) -> tuple[int, float]:
    url = base_url.replace("http", "ws", 1) + "/chat"
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        counts = await asyncio.gather(
            *(_customer(session, url, messages) for _ in range(customers))
        )
        elapsed = time.perf_counter() - start
    return sum(counts), elapsed


async def baseline_ingest(uri: str, total: int, batch: int = 500) -> float:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
    coll = client["bench_baseline"]["messages"]
    docs = [
        {
            "_id": uuid.uuid4().hex,
            "channel": "web",
            "external_id": uuid.uuid4().hex,
            "text": f"message {n}",
            "direction": "inbound",
        }
        for n in range(total)
    ]
    start = time.perf_counter()
    for offset in range(0, total, batch):
        await coll.insert_many(docs[offset : offset + batch], ordered=False)
    elapsed = time.perf_counter() - start
    await client.drop_database("bench_baseline")
    await client.close()
    return total / elapsed


async def baseline_indexed(uri: str, total: int, batch: int = 500) -> float:
    """``insert_many`` of message documents into the hub's indexed ``messages``."""
    store = MongoStore(make_client(uri), "bench_baseline_indexed")
    await store.ensure_indexes()
    start_at = datetime.now(UTC)
    docs = [
        message_doc(
            new_id(),
            f"conv-{n // 10}",
            f"contact-{n // 10}",
            uuid.uuid4().hex,
            f"message {n}",
            start_at,
            client_id=f"c{n}",
            raw={"frame": {"type": "message", "text": f"message {n}"}},
        )
        for n in range(total)
    ]
    messages = store.collection("messages")
    start = time.perf_counter()
    for offset in range(0, total, batch):
        await messages.insert_many(docs[offset : offset + batch], ordered=False)
    elapsed = time.perf_counter() - start
    await store.client.drop_database("bench_baseline_indexed")
    await store.close()
    return total / elapsed


def run(
    customers_list: list[int], messages: int, batch: int | None = None, bot: bool = False
) -> list[Row]:
    env = {} if batch is None else {"CHORUS_MONGO__INGEST_BATCH": str(batch)}
    if bot:  # every customer's first message is answered: the bot's reply shares the storage
        env["CHORUS_BOT__ENABLED"] = "true"
    suffix = ", bot on" if bot else ""
    rows: list[Row] = []
    with database() as server:
        for customers in customers_list:
            with HubProcess(server.uri, database=f"bench_{customers}", extra_env=env) as hub:
                stored, elapsed = asyncio.run(hub_ingest(hub.base_url, customers, messages))
            rate = stored / elapsed
            base = asyncio.run(baseline_ingest(server.uri, stored))
            rows.append(
                Row(
                    f"ingest /chat, {customers} customers{suffix}",
                    rate,
                    "msg/s",
                    base,
                    f"{stored} acked in {elapsed:.1f}s",
                )
            )
            indexed = asyncio.run(baseline_indexed(server.uri, stored))
            rows.append(Row("  same, vs insert_many with hub indexes", rate, "msg/s", indexed))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--messages", type=int, default=10, help="messages per customer")
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="mongo.ingest_batch for the hub (1: no group commit)",
    )
    parser.add_argument("--bot", action="store_true", help="with the bot answering customers")
    args = parser.parse_args()
    print_table(run(args.customers, args.messages, args.batch, args.bot))


if __name__ == "__main__":
    main()
