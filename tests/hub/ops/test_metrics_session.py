"""Every documented metric moves: a scripted session, then what ``/metrics`` serves.

The session plays what an operator's hub sees in a day: web chat with the bot replying and
handing off, a conversation the bot closes alone, an undeliverable reply, a public comment,
X polling, backups and an archive run by ``chorus`` in its own process, an archive run
refused (another holds the lease), and a replica kept by ``Replicator`` behind its own
metrics listener. The metric names come from the documentation (the catalogue in
``hub/runtime/metrics.py``, README.md and docs/); each must have a sample the session produced,
scraped over HTTP.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import hub.runtime.metrics
from hub.domain import utcnow
from hub.ops.metrics_http import metrics_listener
from hub.runtime.metrics import ReplicationMetrics
from hub.state import HUB, MONGO
from storage.archive_store import LocalArchiveStore
from storage.archiver import Archiver
from storage.leases import LeaseStore, LeaseUnavailable
from storage.replicator import STATE_COLLECTION, Replicator
from tests.helpers.bot import SAMPLE_KB
from tests.helpers.hub import bearer, settle, wait_for
from tests.helpers.scrape import Scrape, scrape
from tests.helpers.web_chat import next_frame

ROOT = Path(__file__).resolve().parents[3]
# Gauges of work in flight: zero whenever the hub is idle, so being exported is their sample.
AT_REST_ZERO = {"chorus_outbox_pending", "chorus_outbox_inflight", "chorus_fanout_tasks"}
# Needs a reader whose TCP socket is stalled; tests/reliability/test_slow_reader.py makes one.
# Each needs a channel the session does not run; the named tests scrape it instead.
NOT_IN_SESSION = {
    "chorus_websocket_slow_reader_drops_total",  # tests/reliability/test_slow_reader.py
    "chorus_inbound_skipped_total",  # tests/adapters/{telegram,wechat}: skipped updates
    "chorus_web_limited_total",  # tests/adapters/web/test_limits.py: over a rate or limit
    "chorus_retention_deleted_total",  # tests/hub/privacy/test_retention.py: a retention run
    "chorus_retention_last_run_timestamp_seconds",  # tests/hub/privacy/test_retention.py
    # tests/hub/webhooks/test_delivery.py: a receiver that fails, times out and answers 429
    "chorus_webhook_deliveries_total",
    "chorus_webhook_lag_seconds",
    "chorus_webhook_dead_letters_total",
    "chorus_webhook_dead_letters_stored",
}


def documented_metrics() -> set[str]:
    """Metric names in the catalogue (hub/runtime/metrics.py's docstring), README.md and docs/."""
    catalogue = hub.runtime.metrics.__doc__ or ""
    names = set(re.findall(r"``(chorus_[a-z_]+)``", catalogue))
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        # Not file names (``/run/secrets/chorus_jwt``) nor families (``chorus_backup_*``).
        names |= set(re.findall(r"(?<![\w/])chorus_[a-z_]+(?![\w*])", path.read_text()))
    return names


def _sample_names(name: str) -> set[str]:
    return {name, f"{name}_total", f"{name}_count"}


def produced(name: str, scrapes: list[Scrape]) -> bool:
    """A sample of ``name`` was served; non-zero unless it is an at-rest-zero gauge."""
    wanted = _sample_names(name)
    values = [v for s in scrapes for (n, _), v in s.samples.items() if n in wanted]
    return bool(values) and (name in AT_REST_ZERO or any(v > 0 for v in values))


async def _chat(client: Any, visitor: str, *texts: str) -> str:
    """A web customer says ``texts``; returns the conversation id."""
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "name": visitor})
        await next_frame(ws, "welcome")
        ack: dict[str, Any] = {}
        for n, text in enumerate(texts):
            await ws.send_json({"type": "message", "text": text, "client_id": f"{visitor}{n}"})
            ack = await next_frame(ws, "ack")
        await next_frame(ws, "message")  # the bot's reply
    resp = await client.get(f"/api/v1/messages/{ack['id']}", headers=bearer(client))
    return str((await resp.json())["conversation_id"])


async def _chorus(env: dict[str, str], *args: str) -> int:
    """Run ``chorus ARGS`` as its own process, as an operator's timer would."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await proc.wait()


async def _replicate(db: Any, mongo_client: Any, db_name: str) -> Scrape:
    """Keep a replica for a moment; scrape the replicator's own listener."""
    target = mongo_client[f"{db_name}_replica"]
    metrics = ReplicationMetrics()
    replicator = Replicator(db, target, batch_size=10, metrics=metrics)
    stop = asyncio.Event()
    task = asyncio.create_task(replicator.run(stop))
    try:
        await wait_for(lambda: target[STATE_COLLECTION].find_one({}))
        await db.contacts.update_one({}, {"$set": {"note": "replicated"}})
        await wait_for(lambda: target.contacts.find_one({"note": "replicated"}))
        async with (
            metrics_listener(metrics.render, "", "127.0.0.1", 0) as (host, port),
            aiohttp.ClientSession() as session,
        ):
            return await scrape(session, f"http://{host}:{port}/metrics")
    finally:
        stop.set()
        await task
        await mongo_client.drop_database(f"{db_name}_replica")


async def test_every_documented_metric_has_a_sample_after_a_session(
    make_client, twitter_config, db, db_name, tmp_path
) -> None:
    config = twitter_config()
    config.bot.enabled = True
    config.bot.knowledge_files = [SAMPLE_KB]
    config.archive.local_dir = tmp_path / "archive"
    client = await make_client(config)
    scrapes: list[Scrape] = []
    agent = bearer(client)

    # Chat: the bot replies, then hands off when the customer asks for a person.
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "name": "Ada"})
        await next_frame(ws, "welcome")
        await ws.send_json({"type": "message", "text": "hello", "client_id": "a1"})
        await next_frame(ws, "ack")
        await ws.send_json({"type": "message", "text": "hello", "client_id": "a1"})  # a resend
        await next_frame(ws, "ack")
        await ws.send_json({"type": "message", "text": "an agent please", "client_id": "a2"})
        ack = await next_frame(ws, "ack")
        await ws.send_str("{broken")
        await next_frame(ws, "error")
        scrapes.append(await scrape(client))  # the socket is open now
    resp = await client.get(f"/api/v1/messages/{ack['id']}", headers=agent)
    handed = (await resp.json())["conversation_id"]

    async def handed_off() -> bool:
        resp = await client.get(f"/api/v1/conversations/{handed}", headers=agent)
        return (await resp.json())["status"] == "open"

    await wait_for(handed_off)
    resp = await client.post(
        f"/api/v1/conversations/{handed}/messages", json={"text": "Here."}, headers=agent
    )
    assert resp.status == 201

    # A conversation the bot closes alone (resolved from the bot stage).
    contained = await _chat(client, "bo", "what are your opening hours")
    resp = await client.patch(
        f"/api/v1/conversations/{contained}", json={"status": "resolved"}, headers=agent
    )
    assert resp.status == 200, await resp.text()

    # A reply for a channel this hub does not run: it fails for good.
    lost = await _chat(client, "cy", "hi")
    await db.conversations.update_one({"_id": lost}, {"$set": {"channel": "telegram"}})
    resp = await client.post(
        f"/api/v1/conversations/{lost}/messages", json={"text": "hi"}, headers=agent
    )
    assert resp.status == 201

    # A public comment goes through moderation.
    resp = await client.post("/comment", json={"comment": "Lovely shop.", "author": "Ann"})
    assert resp.status in (200, 201), await resp.text()

    # The resolved conversation is due for archiving (resolved long ago): a backlog.
    long_ago = utcnow() - timedelta(days=config.archive.after_days + 1)
    # Pending recency refreshes are written first: one landing later would move it back.
    await settle(client)
    await client.app[HUB].writer.settle()
    await db.conversations.update_one({"_id": contained}, {"$set": {"updated_at": long_ago}})
    mongo = client.app[MONGO]
    store = LocalArchiveStore(config.archive.local_dir)
    # Backups run in their own process; the hub reports them from what they recorded.
    env = {
        **os.environ,
        "CHORUS_MONGO__URI": config.mongo.uri,
        "CHORUS_MONGO__DATABASE": config.mongo.database,
        "CHORUS_ARCHIVE__LOCAL_DIR": str(config.archive.local_dir),
    }
    assert await _chorus(env, "backup", "--incremental") == 1  # no full backup yet
    assert await _chorus(env, "backup") == 0

    async def settled() -> Scrape | None:
        now = await scrape(client)
        polled = now.total("chorus_channel_next_poll_timestamp_seconds") > 0
        sent = now.value("chorus_messages_sent_total", channel="web") > 0
        return now if polled and sent else None

    before_archive = await wait_for(settled)
    scrapes.append(before_archive)
    assert before_archive.value("chorus_archive_lag_seconds") > 0
    assert before_archive.value("chorus_backup_runs_total", outcome="success") == 1
    assert before_archive.value("chorus_backup_runs_total", outcome="failure") == 1
    assert before_archive.value("chorus_backup_bytes") > 0
    last = before_archive.value("chorus_backup_last_success_timestamp_seconds")
    assert abs(last - utcnow().timestamp()) < 60

    archiver = Archiver(
        mongo, store, after_days=config.archive.after_days, delete_after_archive=True
    )
    # A run while another process holds the archive lease is refused: the lease's
    # upsert fails on the server (a storage command failure), nothing is archived.
    leases = LeaseStore(mongo)
    assert await leases.acquire("archive-run", "another-process", ttl_seconds=60)
    with pytest.raises(LeaseUnavailable):
        await archiver.run()
    await leases.release("archive-run", "another-process")
    assert await _chorus(env, "archive", "run") == 0
    after_archive = await scrape(client)
    scrapes.append(after_archive)
    assert after_archive.value("chorus_archive_lag_seconds") == 0
    assert after_archive.value("chorus_archive_documents_total", collection="conversations") == 1
    assert after_archive.value("chorus_archive_documents_total", collection="messages") >= 2

    scrapes.append(await _replicate(db, db.client, db_name))

    documented = documented_metrics()
    assert len(documented) >= 25  # the catalogue was found and read
    missing = sorted(n for n in documented - NOT_IN_SESSION if not produced(n, scrapes))
    assert missing == []
    # And the other way round: everything served is documented (``*_created`` is the
    # creation time prometheus-client adds to each counter and histogram).
    served = {f for s in scrapes for f in s.families if not f.endswith("_created")}
    undocumented = {f for f in served if not documented & _sample_names(f)}
    assert undocumented == set()
