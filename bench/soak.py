"""Soak: the hub under mixed traffic for minutes, watching memory, errors and losses.

Web customers chat and reconnect with their visitor tokens, an agent replies over the
API, and comments arrive on ``/comment``, all against ``chorus serve`` in its own
process. The hub's RSS is sampled every few seconds; growth is measured from the end of
warm-up (the first 20% of the run). Exits non-zero when memory grows more than
``--max-growth-mib`` after warm-up or when any acknowledged message is not stored.

Run: ``python -m bench.soak [--minutes 10] [--customers 20] [--max-growth-mib 40]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from pymongo import AsyncMongoClient

from bench.connections import rss_kib
from bench.harness import HubProcess, Row, database, print_table
from hub.access.tokens import TokenService
from hub.config.model import load_config

SECRET = "bench-secret-" + "x" * 32


@dataclass
class Tally:
    """What the traffic did and saw."""

    counts: Counter[str] = field(default_factory=Counter)
    acked: set[str] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    conversations: set[str] = field(default_factory=set)


async def customer(session: aiohttp.ClientSession, url: str, tally: Tally, stop: float) -> None:
    """One visitor: short sessions of a few messages, reconnecting with its token."""
    token: str | None = None
    while time.monotonic() < stop:
        try:
            async with session.ws_connect(f"{url}/chat", heartbeat=20) as ws:
                tally.counts["connections"] += 1
                await ws.send_json({"type": "hello", "visitor_token": token})
                for _ in range(random.randint(1, 5)):
                    client_id = uuid.uuid4().hex
                    await ws.send_json({"type": "message", "text": "hello", "client_id": client_id})
                    tally.counts["sent"] += 1
                    while True:
                        frame = await ws.receive_json(timeout=30)
                        if frame["type"] == "welcome":
                            token = frame["visitor_token"]
                        elif frame["type"] == "message":
                            tally.counts["replies_received"] += 1
                        elif frame["type"] == "error":
                            tally.errors[f"frame:{frame['code']}"] += 1
                            break
                        elif frame["type"] == "ack" and frame.get("client_id") == client_id:
                            tally.acked.add(frame["id"])
                            break
                    await asyncio.sleep(random.uniform(0.1, 1.0))
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.errors[f"customer:{type(exc).__name__}"] += 1
        await asyncio.sleep(random.uniform(0.2, 1.0))


async def agent(session: aiohttp.ClientSession, url: str, tally: Tally, stop: float) -> None:
    """An agent who reads the latest web messages and replies to one of them."""
    tokens = TokenService(load_config(None, environ={"CHORUS_AUTH__JWT_SECRET": SECRET}).auth)
    headers = {"Authorization": f"Bearer {tokens.issue('soak', 'agent', 24 * 3600)}"}
    while time.monotonic() < stop:
        try:
            async with session.get(
                f"{url}/api/v1/messages?channel=web&limit=20", headers=headers
            ) as resp:
                items = (await resp.json()).get("items", [])
            for item in items:
                tally.conversations.add(item["conversation_id"])
            if tally.conversations:
                target = random.choice(sorted(tally.conversations))
                async with session.post(
                    f"{url}/api/v1/conversations/{target}/messages",
                    json={"text": "We are on it."},
                    headers=headers,
                ) as resp:
                    tally.counts["agent_replies" if resp.status == 201 else "agent_errors"] += 1
                    if resp.status >= 500:
                        tally.errors[f"api:{resp.status}"] += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.errors[f"agent:{type(exc).__name__}"] += 1
        await asyncio.sleep(0.5)


async def commenter(session: aiohttp.ClientSession, url: str, tally: Tally, stop: float) -> None:
    """Comments from many authors on ``/comment``."""
    while time.monotonic() < stop:
        body = {"comment": "Nice product, fast shipping.", "email": f"{uuid.uuid4().hex}@ex.org"}
        try:
            async with session.post(f"{url}/comment", json=body) as resp:
                tally.counts["comments" if resp.status < 300 else "comments_refused"] += 1
                if resp.status >= 500:
                    tally.errors[f"comment:{resp.status}"] += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.errors[f"comment:{type(exc).__name__}"] += 1
        await asyncio.sleep(1.0)


async def sample_rss(pid: int, samples: list[tuple[float, int]], stop: float, every: float) -> None:
    start = time.monotonic()
    while time.monotonic() < stop:
        samples.append((time.monotonic() - start, rss_kib(pid)))
        await asyncio.sleep(every)


async def soak(url: str, pid: int, minutes: float, customers: int) -> tuple[Tally, list]:
    tally, samples = Tally(), []
    stop = time.monotonic() + minutes * 60
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(
            sample_rss(pid, samples, stop, every=3.0),
            agent(session, url, tally, stop),
            commenter(session, url, tally, stop),
            *(customer(session, url, tally, stop) for _ in range(customers)),
        )
    return tally, samples


async def stored_ids(uri: str, name: str, ids: set[str]) -> tuple[set[str], int, int]:
    """Which acknowledged ids are stored, and how many web and comment documents exist."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    try:
        db = client[name]
        found = {d["_id"] async for d in db.messages.find({"_id": {"$in": list(ids)}}, {"_id": 1})}
        inbound = await db.messages.count_documents({"channel": "web", "direction": "inbound"})
        comments = await db.comments.count_documents({})
        return found, inbound, comments
    finally:
        await client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--max-growth-mib", type=float, default=40.0)
    args = parser.parse_args()
    with database() as server, HubProcess(server.uri, extra_env={}) as hub:
        assert hub.process is not None
        hub.add_agent("soak", "agent")
        tally, samples = asyncio.run(
            soak(hub.base_url, hub.process.pid, args.minutes, args.customers)
        )
        found, inbound, comments = asyncio.run(stored_ids(server.uri, hub.database, tally.acked))
    warm = [kib for at, kib in samples if at >= args.minutes * 60 * 0.2]
    growth_mib = (max(warm) - warm[0]) / 1024 if warm else 0.0
    lost = len(tally.acked - found)
    rows = [
        Row("web messages sent", tally.counts["sent"], "msgs"),
        Row("web messages acknowledged", len(tally.acked), "msgs"),
        Row("acknowledged and stored", len(found), "msgs"),
        Row("acknowledged but lost", lost, "msgs"),
        Row("web inbound documents stored", inbound, "docs", note="includes resends"),
        Row("agent replies posted", tally.counts["agent_replies"], "msgs"),
        Row("replies received by customers", tally.counts["replies_received"], "frames"),
        Row(
            "comments accepted",
            tally.counts["comments"],
            "comments",
            note=f"{comments} stored, {tally.counts['comments_refused']} refused (4xx)",
        ),
        Row("customer connections opened", tally.counts["connections"], "conns"),
        Row("errors", sum(tally.errors.values()), "errors", note=str(dict(tally.errors))),
        Row("RSS after warm-up", warm[0] / 1024 if warm else 0, "MiB"),
        Row("RSS growth after warm-up", growth_mib, "MiB", note=f"limit {args.max_growth_mib}"),
        Row("RSS samples", len(samples), "samples"),
    ]
    print_table(rows)
    return 1 if lost or growth_mib > args.max_growth_mib else 0


if __name__ == "__main__":
    raise SystemExit(main())
