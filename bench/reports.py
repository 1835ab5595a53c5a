"""Reports over a large inbox: the six report endpoints over 30 days at N messages.

Populates N messages (default 1,000,000) in conversations of 20 spread over the last 30
days (half resolved, each handed off by the bot, a third rated), then times:
the first 30-day report (every day rolled up from the live collections), one day's
rollup, the first agents and moderation reports (their first read of the agents' loads and
of the held comments, each then read again at most once a minute, in the background), and
report requests once the buckets exist (p50/p99, every panel in turn),
against reading the same 30 bucket documents straight from the database.
Run: ``python -m bench.reports [--messages 1000000] [--data DIR]`` (with ``--data`` the
populated database is kept in DIR and later runs with the same ``--messages`` reuse it).
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
BATCH = 20_000
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


def _comment(c: int, at: datetime) -> dict[str, Any]:
    status = ("approved", "held", "rejected")[c % 3]
    social = c % 2 == 1
    return {
        "_id": str(ObjectId()),
        "source": "social" if social else "web",
        "external": {"channel": "telegram", "message_id": f"p{c}"} if social else None,
        "status": status,
        "text": "a comment",
        "created_at": at,
        "decision": {"status": status, "stage": "links", "reason": "too_many_links"},
    }


def _documents(c: int, now: datetime, step: timedelta, start: datetime) -> dict[str, list[Any]]:
    """One conversation's documents, by collection."""
    at = start + step * c
    cid = str(ObjectId())
    docs: dict[str, list[Any]] = {
        "conversations": [_conversation(c, cid, at)],
        "conversation_events": [
            {"conversation_id": cid, "from": "bot", "to": "open", "actor": "bot",
             "reason": "low_confidence", "assignee": None, "at": at + timedelta(seconds=30)}
        ],
        "ratings": [],
        "comments": [_comment(c, at)] if c % 4 == 0 else [],
        "messages": [],
    }  # fmt: skip
    if c % 3 == 0:
        docs["ratings"].append(
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
        docs["messages"].append(doc)
    return docs


async def populate(uri: str, db_name: str, total: int, now: datetime) -> None:
    """Load the documents straight into unindexed collections in large batches, then build
    the hub's indexes once (several times faster than inserting into indexed ones)."""
    store = MongoStore(make_client(uri), db_name, "1")
    conversations = max(1, total // PER_CONVERSATION)
    start = now - timedelta(days=DAYS) + timedelta(minutes=1)
    step = (now - start) / conversations
    pending: dict[str, list[Any]] = {}
    for c in range(conversations):
        for name, docs in _documents(c, now, step, start).items():
            pending.setdefault(name, []).extend(docs)
        if len(pending["messages"]) >= BATCH or c == conversations - 1:
            for name, docs in pending.items():
                if docs:
                    await store.collection(name).insert_many(docs, ordered=False)
            pending = {}
    failures = store.collection("bot_webhook_failures")
    for d in range(DAYS + 1):
        day = (now - timedelta(days=d)).date().isoformat()
        await failures.insert_one(
            {"_id": f"{day}|web|timeout", "day": day, "channel": "web", "kind": "timeout",
             "count": 3 + d}
        )  # fmt: skip
    await store.ensure_indexes()
    await store.collection("bench_meta").replace_one(
        {"_id": "reports"}, {"messages": total, "now": now}, upsert=True
    )
    await store.close()


async def _populated(uri: str, db_name: str, total: int) -> bool:
    """Whether a kept data directory already holds this many messages' data set."""
    store = MongoStore(make_client(uri), db_name, "1")
    meta = await store.collection("bench_meta").find_one({"_id": "reports"})
    if meta is not None:  # the reports are measured from the rollup on: drop old buckets
        await store.collection("report_days").drop()
    await store.close()
    return meta is not None and meta["messages"] == total


async def _time_first(base: str, token: str, panel: str = "conversations") -> float:
    """The first 30-day report of ``panel``: of all, while no bucket exists yet; of agents
    and moderation, their first read of the agents' loads and of the held comments."""
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(base) as session:
        started = time.perf_counter()
        async with session.get(
            f"/api/v1/reports/{panel}", params={"range": "30d"}, headers=headers
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


def run(total: int, samples: int, data: str | None = None) -> list[Row]:
    now = datetime.now(UTC)
    with database(path=data) as server:
        fill: float | None = None
        if not asyncio.run(_populated(server.uri, "bench", total)):
            started = time.perf_counter()
            asyncio.run(populate(server.uri, "bench", total, now))
            fill = time.perf_counter() - started
        token = TokenService(
            load_config(None, environ={"CHORUS_AUTH__JWT_SECRET": SECRET}).auth
        ).issue("bench", "admin", 3600)
        with HubProcess(server.uri, database="bench") as hub:
            hub.add_agent("bench", "admin")
            cold = asyncio.run(_time_first(hub.base_url, token))
            loads = asyncio.run(_time_first(hub.base_url, token, "agents"))
            held = asyncio.run(_time_first(hub.base_url, token, "moderation"))
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
    rows = [
        Row(f"report p50 ({label})", _percentile(warm, 0.5) * 1000, "ms",
            _percentile(direct, 0.5) * 1000, "buckets built; baseline: read 30 buckets"),
        Row(f"report p99 ({label})", _percentile(warm, 0.99) * 1000, "ms",
            _percentile(direct, 0.99) * 1000, "all six panels in turn"),
        Row(f"first report ({label})", cold * 1000, "ms", None, "rolls up 30 days"),
        Row("first agents report", loads * 1000, "ms", None, "counts loads (then once a minute)"),
        Row("first moderation report", held * 1000, "ms", None, "reads held comments (same)"),
        Row(f"roll up one day ({total // DAYS:,} msgs)", one_day * 1000, "ms"),
    ]  # fmt: skip
    if fill is not None:
        rows.append(Row("populate report inbox", total / fill, "msg/s", None, f"{fill:.0f}s"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument(
        "--data", help="a data directory to keep: populated on the first run, reused after"
    )
    args = parser.parse_args()
    print_table(run(args.messages, args.samples, args.data))


if __name__ == "__main__":
    main()
