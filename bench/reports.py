"""Reports over a large inbox: the six report endpoints over 30 days at N messages.

Populates N messages (default 1,000,000) in conversations of 20 spread over the last 30
days (half resolved, each handed off by the bot, a third rated), then times:
the first 30-day report (every day rolled up from the live collections), one day's
rollup, and report requests once the buckets exist (p50/p99, every panel in turn),
against reading the same 30 bucket documents straight from the database.
Run: ``python -m bench.reports [--messages 1000000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from bson import ObjectId
from pymongo import AsyncMongoClient

from bench.harness import HubProcess, Row, database, message_doc, print_table
from bench.latency import _percentile
from bench.queries import SECRET, _time_requests
from hub.access.tokens import TokenService
from hub.config.model import load_config
from storage.mongo import MongoStore, make_client
from storage.reports import ReportStore

PER_CONVERSATION = 20
DAYS = 30
PANELS = ("conversations", "response-times", "bot", "ratings", "agents", "moderation")


def _conversation(c: int, cid: str, at: datetime) -> dict[str, Any]:
    resolved = c % 2 == 0
    doc: dict[str, Any] = {
        "_id": cid,
        "contact_id": f"contact-{c}",
        "channel": "web" if c % 3 else "telegram",
        "thread_key": f"t{c}",
        "recipient_id": f"v{c}",
        "status": "resolved" if resolved else "open",
        "assignee": f"agent-{c % 25}",
        "labels": [],
        "route": {},
        "created_at": at,
        "updated_at": at,
        "last_message_at": at + timedelta(minutes=PER_CONVERSATION),
        # As the report listener keeps them: handed off at 30 s, first agent reply at 1 min.
        "human_at": at + timedelta(seconds=30),
        "first_reply_at": at + timedelta(minutes=1),
    }
    if resolved:
        doc["resolved_at"] = at + timedelta(minutes=30 + c % 90)
    return doc


async def populate(uri: str, db_name: str, total: int, now: datetime) -> None:
    store = MongoStore(make_client(uri), db_name, "1")
    conversations = max(1, total // PER_CONVERSATION)
    start = now - timedelta(days=DAYS) + timedelta(minutes=1)
    step = (now - start) / conversations
    convs, events, ratings, messages = [], [], [], []
    for c in range(conversations):
        at = start + step * c
        cid = str(ObjectId())
        convs.append(_conversation(c, cid, at))
        events.append(
            {"conversation_id": cid, "from": "bot", "to": "open", "actor": "bot",
             "reason": "low_confidence", "assignee": None, "at": at + timedelta(seconds=30)}
        )  # fmt: skip
        if c % 3 == 0:
            ratings.append(
                {"_id": cid, "contact_id": f"contact-{c}", "score": 1 + c % 5,
                 "assignee": f"agent-{c % 25}", "at": at + timedelta(hours=1)}
            )  # fmt: skip
        for m in range(PER_CONVERSATION):
            doc = message_doc(
                str(ObjectId()), cid, f"contact-{c}", f"v{c}:{m}", f"message {m}",
                at + timedelta(minutes=m), direction="inbound" if m % 2 == 0 else "outbound",
            )  # fmt: skip
            if m % 2:
                doc["author"] = {"kind": "agent", "id": f"agent-{c % 25}", "name": ""}
            messages.append(doc)
        if len(messages) >= 5000:
            await store.collection("messages").insert_many(messages, ordered=False)
            messages = []
    if messages:
        await store.collection("messages").insert_many(messages, ordered=False)
    for name, docs in (("conversations", convs), ("conversation_events", events)):
        for offset in range(0, len(docs), 5000):
            await store.collection(name).insert_many(docs[offset : offset + 5000])
    if ratings:
        await store.collection("ratings").insert_many(ratings)
    await store.ensure_indexes()
    await store.close()


async def _time_first(base: str, token: str) -> float:
    """The first 30-day report, while no bucket exists yet."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base) as session:
        started = time.perf_counter()
        async with session.get(
            "/api/v1/reports/conversations", params={"range": "30d"}, headers=headers
        ) as resp:
            assert resp.status == 200, await resp.text()
            await resp.read()
        return time.perf_counter() - started


async def _time_rollup(uri: str, db_name: str, now: datetime) -> float:
    store = MongoStore(make_client(uri), db_name, "1")
    started = time.perf_counter()
    await ReportStore(store).rollup((now - timedelta(days=DAYS // 2)).date(), now)
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed


async def _time_buckets(uri: str, db_name: str, samples: int) -> list[float]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    days = client[db_name]["report_days"]
    await days.find({}).to_list()
    timings = []
    for _ in range(samples):
        t = time.perf_counter()
        await days.find({}).sort("_id", -1).limit(DAYS).to_list()
        timings.append(time.perf_counter() - t)
    await client.close()
    return timings


def run(total: int, samples: int) -> list[Row]:
    now = datetime.now(UTC)
    with database() as server:
        started = time.perf_counter()
        asyncio.run(populate(server.uri, "bench", total, now))
        fill = time.perf_counter() - started
        token = TokenService(
            load_config(None, environ={"CHORUS_AUTH__JWT_SECRET": SECRET}).auth
        ).issue("bench", "admin", 3600)
        with HubProcess(server.uri, database="bench") as hub:
            hub.add_agent("bench", "admin")
            cold = asyncio.run(_time_first(hub.base_url, token))
            warm = asyncio.run(
                _time_requests(
                    [(f"/api/v1/reports/{PANELS[i % len(PANELS)]}", {"range": "30d"})
                     for i in range(samples)],
                    hub.base_url,
                    token,
                )
            )  # fmt: skip
        one_day = asyncio.run(_time_rollup(server.uri, "bench", now))
        direct = asyncio.run(_time_buckets(server.uri, "bench", samples))
    label = f"30 days, {total:,} msgs"
    return [
        Row(f"report p50 ({label})", _percentile(warm, 0.5) * 1000, "ms",
            _percentile(direct, 0.5) * 1000, "buckets built; baseline: read 30 buckets"),
        Row(f"report p99 ({label})", _percentile(warm, 0.99) * 1000, "ms",
            _percentile(direct, 0.99) * 1000, "all six panels in turn"),
        Row(f"first report ({label})", cold * 1000, "ms", None, "rolls up 30 days"),
        Row(f"roll up one day ({total // DAYS:,} msgs)", one_day * 1000, "ms"),
        Row("populate report inbox", total / fill, "msg/s", None, f"{fill:.0f}s"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    print_table(run(args.messages, args.samples))


if __name__ == "__main__":
    main()
