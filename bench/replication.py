"""Replication lag and throughput: ``chorus replicate`` between two SecantusDB servers.

    python -m bench.replication [--messages 5000] [--rate 200] [--seconds 10]

Runs the replicator as its own process (as in production) and measures, from outside:
1. initial sync: time to copy ``--messages`` existing messages;
2. catch-up throughput: ``--messages`` more inserted as fast as one writer can, and the
   rate at which the replica applies them;
3. steady lag: ``--rate`` messages per second for ``--seconds``, with a probe message
   every ~200 ms timed from its insert on the source until the replica has it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from hub.domain import new_id, utcnow
from storage.embedded import EmbeddedMongo

ROOT = Path(__file__).resolve().parents[1]
DB = "bench_replication"


def message(n: int) -> dict[str, Any]:
    return {
        "_id": new_id(),
        "conversation_id": f"c{n % 50}",
        "contact_id": f"k{n % 50}",
        "channel": "web",
        "external_id": f"bench:{n}",
        "direction": "inbound",
        "author": {"kind": "contact", "id": f"k{n % 50}", "name": "Bench"},
        "text": f"benchmark message {n} " + "x" * 120,
        "attachments": [],
        "created_at": utcnow(),
        "written_at": time.time(),
        "private": False,
        "raw": {},
    }


async def count_until(coll: Any, n: int) -> float:
    start = time.perf_counter()
    while await coll.estimated_document_count() < n:  # noqa: ASYNC110 - polling another process
        await asyncio.sleep(0.02)
    return time.perf_counter() - start


async def main(args: argparse.Namespace) -> None:
    source_server, target_server = EmbeddedMongo(":memory:"), EmbeddedMongo(":memory:")
    await source_server.astart()
    await target_server.astart()
    source_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(source_server.uri)
    target_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(target_server.uri)
    source, target = source_client[DB].messages, target_client[DB].messages
    env = {**os.environ, "CHORUS_MONGO__URI": source_server.uri, "CHORUS_MONGO__DATABASE": DB}
    n = args.messages
    proc = None
    try:
        for start in range(0, n, 500):
            await source.insert_many([message(i) for i in range(start, min(n, start + 500))])
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hub.cli.main",
            "replicate",
            "--to",
            target_server.uri,
            cwd=ROOT,
            env=env,
            stderr=asyncio.subprocess.DEVNULL,
        )
        copy_seconds = await count_until(target, n)
        print(f"initial sync: {n} messages in {copy_seconds:.2f}s ({n / copy_seconds:,.0f}/s)")

        write_start = time.perf_counter()
        for start in range(n, 2 * n, 100):
            await source.insert_many([message(i) for i in range(start, min(2 * n, start + 100))])
        write_seconds = time.perf_counter() - write_start
        applied_seconds = write_seconds + await count_until(target, 2 * n)
        print(
            f"catch-up: {n} inserts written at {n / write_seconds:,.0f}/s, "
            f"replica applied all {applied_seconds:.2f}s after the first "
            f"({n / applied_seconds:,.0f} changes/s)"
        )

        lags: list[float] = []
        written = [2 * n]

        async def writer() -> None:
            period, began = 1 / args.rate, time.perf_counter()
            while time.perf_counter() - began < args.seconds:
                await source.insert_one(message(written[0]))
                written[0] += 1
                await asyncio.sleep(
                    max(0.0, began + (written[0] - 2 * n) * period - time.perf_counter())
                )

        async def sampler() -> None:
            # A probe message is written among the load; its lag is the time until the
            # replica has it (a point read by _id, cheap for both servers).
            probe = 0
            while not writing.done():
                doc = message(10_000_000 + probe)
                probe += 1
                began = time.perf_counter()
                await source.insert_one(doc)
                while not await target.find_one({"_id": doc["_id"]}):  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - began)
                await asyncio.sleep(0.2)

        writing = asyncio.create_task(writer())
        await asyncio.gather(writing, sampler())
        rate = (written[0] - 2 * n) / args.seconds
        lags.sort()
        print(
            f"steady {rate:,.0f}/s for {args.seconds}s: replication lag "
            f"p50 {statistics.median(lags):.3f}s, "
            f"p95 {lags[int(len(lags) * 0.95) - 1]:.3f}s, max {lags[-1]:.3f}s "
            f"({len(lags)} probes)"
        )
    finally:
        if proc is not None and proc.returncode is None:
            proc.terminate()
            await proc.wait()
        await source_client.close()
        await target_client.close()
        await source_server.astop()
        await target_server.astop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
