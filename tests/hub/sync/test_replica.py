"""Replicas: a second database kept in step by change streams, verified by digests.

The kill test runs ``chorus replicate`` as a real subprocess against a second SecantusDB
server, SIGKILLs it while the hub keeps writing, restarts it, and then ``chorus sync
verify`` must find nothing different.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp
from pymongo import AsyncMongoClient

from hub.ops.metrics_http import metrics_listener
from hub.runtime.metrics import ReplicationMetrics
from storage.replica_check import repair, verify
from storage.replicator import STATE_COLLECTION, Replicator
from tests.helpers.hub import bearer, wait_for
from tests.helpers.scrape import Scrape, scrape
from tests.helpers.sync import Client, customer_says

ROOT = Path(__file__).resolve().parents[3]


async def _replica_db(replica_server: Any, name: str) -> Any:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(replica_server.uri, tz_aware=True)
    return client, client[name]


async def test_replicator_copies_then_streams_and_verify_repairs(
    client: Client, db, replica_server, db_name
) -> None:
    await customer_says(client, "ada", "before the replica existed")
    target_client, target = await _replica_db(replica_server, db_name)
    metrics = ReplicationMetrics()
    replicator = Replicator(db, target, batch_size=10, metrics=metrics)
    stop = asyncio.Event()
    task = asyncio.create_task(replicator.run(stop))
    listener = metrics_listener(metrics.render, "", "127.0.0.1", 0)
    try:

        async def copied() -> bool:
            return await target[STATE_COLLECTION].find_one({}) is not None

        await wait_for(copied)  # the initial copy is done; what follows is streamed
        result = await customer_says(client, "bo", "after it started")
        await db.messages.delete_one({"_id": result.message.id})
        await customer_says(client, "cy", "last one")

        async def same() -> bool:
            return (await verify(db, target)).ok

        await wait_for(same)
        assert replicator.stats.copied >= 3 and replicator.stats.applied >= 3
        assert replicator.stats.last_applied_at is not None
        assert await target.messages.count_documents({}) == 2
        # What an operator scrapes: the replicator's own listener, over HTTP.
        async with listener as (host, port), aiohttp.ClientSession() as session:
            scraped = await scrape(session, f"http://{host}:{port}/metrics")
        assert scraped.value("chorus_replication_events_total", target="default") >= 3
        lag = scraped.samples.get(("chorus_replication_lag_seconds", _target("default")))
        assert lag is not None and 0 <= lag < 60
    finally:
        stop.set()
        await task

    # Damage the replica three ways; verify names each, repair fixes them.
    victim = await target.messages.find_one({})
    await target.messages.update_one({"_id": victim["_id"]}, {"$set": {"text": "tampered"}})
    await target.contacts.delete_one({})
    await target.messages.insert_one({"_id": "stray", "conversation_id": "x"})
    report = await verify(db, target)
    kinds = sorted((d.collection, d.kind) for d in report.differences)
    assert kinds == [("contacts", "missing"), ("messages", "different"), ("messages", "extra")]
    assert victim["conversation_id"] in report.conversations
    await repair(db, target, report.differences)
    assert (await verify(db, target)).ok
    await target_client.drop_database(db_name)
    await target_client.close()


def _target(name: str) -> frozenset[tuple[str, str]]:
    return frozenset({("target", name)})


async def _scrape_replicator(proc: asyncio.subprocess.Process) -> Scrape:
    """Scrape ``chorus replicate --metrics-port 0`` at the address it printed."""
    assert proc.stderr is not None
    while True:
        line = (await proc.stderr.readline()).decode()
        assert line, "the replicator exited before serving its metrics"
        if line.startswith("metrics on "):
            break
    async with aiohttp.ClientSession() as session:
        return await scrape(session, line.removeprefix("metrics on ").strip())


async def _writer(client: Client, db: Any, stop: asyncio.Event, written: list[str]) -> None:
    """Steady inbox traffic: messages, conversation changes and deletes."""
    n = 0
    while not stop.is_set():
        result = await customer_says(client, f"visitor{n % 7}", f"load {n}")
        written.append(result.message.id)
        if n % 5 == 0:
            await client.patch(
                f"/api/v1/conversations/{result.conversation.id}",
                json={"assignee": f"agent{n % 3}"},
                headers=bearer(client),
            )
        if n % 11 == 0:
            await db.messages.delete_one({"_id": written[n // 2]})
        n += 1


async def _cli(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_replica_survives_sigkill_under_load_and_verifies_clean(
    client: Client, db, replica_server, db_name, mongo_uri
) -> None:
    target_client, target = await _replica_db(replica_server, db_name)
    env = {
        **os.environ,
        "CHORUS_MONGO__URI": mongo_uri,
        "CHORUS_MONGO__DATABASE": db_name,
        "PYTHONPATH": str(ROOT),
    }
    stop, written = asyncio.Event(), []
    writer = asyncio.create_task(_writer(client, db, stop, written))

    async def written_at_least(n: int) -> bool:
        return len(written) >= n

    replicate = ("replicate", "--to", replica_server.uri, "--batch-size", "20")
    first = await _cli(*replicate, env=env)
    second = None
    try:

        async def replica_has(n: int) -> bool:
            saved = await target[STATE_COLLECTION].find_one({})
            return saved is not None and await target.messages.count_documents({}) >= n

        await wait_for(lambda: replica_has(30), within=60)
        first.kill()  # SIGKILL: no chance to save anything more
        await first.wait()
        at_kill = len(written)
        await wait_for(lambda: written_at_least(at_kill + 40), within=60)

        second = await _cli(*replicate, "--metrics-port", "0", env=env)
        at_restart = len(written)
        await wait_for(lambda: written_at_least(at_restart + 40), within=60)
        stop.set()
        await writer

        async def caught_up() -> bool:
            return (await verify(db, target)).ok

        await wait_for(caught_up, within=60)
        scraped = await _scrape_replicator(second)
        assert scraped.value("chorus_replication_events_total", target="default") > 0
        assert ("chorus_replication_lag_seconds", _target("default")) in scraped.samples
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await writer
        for proc in (first, second):
            if proc is not None and proc.returncode is None:
                proc.terminate()
                await proc.wait()

    assert second is not None
    assert "copying the database" in (await first.stderr.read()).decode()  # type: ignore[union-attr]
    _, err = await second.communicate()
    assert "resuming from the saved token" in err.decode()
    checked = await _cli("sync", "verify", "--to", replica_server.uri, env=env)
    out, err = await checked.communicate()
    assert checked.returncode == 0, out.decode() + err.decode()
    assert out.decode().splitlines()[-1] == "0 differences"
    assert await target.messages.count_documents({}) == await db.messages.count_documents({})
    await target_client.drop_database(db_name)
    await target_client.close()
