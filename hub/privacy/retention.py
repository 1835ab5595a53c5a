"""The retention schedule: every ``retention.schedule_seconds``, on one hub instance only.

Instances compete for the ``retention-schedule`` lease each tick, as the archive schedule
does; only the holder runs ``storage.retention``. Runs (scheduled, or ``chorus retention
run`` from any process) are recorded in ``retention_runs``, which every instance's
``/metrics`` reads:

- ``chorus_retention_deleted_total`` (counter) — documents deleted by retention, by
  collection (conversations, messages, comments, audit_log, backups)
- ``chorus_retention_last_run_timestamp_seconds`` (gauge) — when the last run ended
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import Gauge

from hub.config.model import RetentionConfig
from hub.domain import new_id
from hub.runtime.background import BackgroundLoop
from hub.runtime.metrics import HubMetrics, StoredCounter
from hub.state import CONFIG, HUB, MONGO
from storage.archive_store import ArchiveStore, open_archive_store
from storage.leases import LeaseStore
from storage.mongo import MongoStore
from storage.retention import Retention, RetentionPolicy, RetentionReport

log = logging.getLogger(__name__)
LEASE = "retention-schedule"


def retention_for(
    mongo: MongoStore, config: RetentionConfig, store: ArchiveStore | None = None
) -> Retention:
    """The configured retention; with ``store``, expired backups are deleted too."""
    policy = RetentionPolicy(
        conversations_days=config.conversations_days,
        channels={str(k): v for k, v in config.channels.items()},
        rejected_comments_days=config.rejected_comments_days,
        audit_days=config.audit_days,
        backups_days=config.backups_days,
    )
    return Retention(mongo, policy, batch=config.batch, store=store)


class RetentionSchedule:
    def __init__(
        self, mongo: MongoStore, config: RetentionConfig, store: ArchiveStore | None = None
    ) -> None:
        self.interval = config.schedule_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{new_id()}"
        self.leases = LeaseStore(mongo)
        self.retention = retention_for(mongo, config, store)

    async def tick(self) -> RetentionReport | None:
        """Apply the policy if this instance holds the lease; the report when it did."""
        if not await self.leases.acquire(LEASE, self.owner, self.interval * 3):
            return None
        report = await self.retention.run(dry_run=False, owner=self.owner)
        log.info("retention run finished", extra={"deleted": dict(report.deleted)})
        return report

    def loop(self) -> BackgroundLoop:
        async def tick() -> None:
            await self.tick()

        return BackgroundLoop(
            "retention-schedule",
            tick,
            interval=self.interval,
            max_retry=self.interval,
            logger=log,
        )


def install_metrics(metrics: HubMetrics, retention: Retention) -> None:
    deleted = StoredCounter(
        "chorus_retention_deleted",
        "Documents deleted by retention.",
        ("collection",),
        metrics.registry,
    )
    last_run = Gauge(
        "chorus_retention_last_run_timestamp_seconds",
        "Unix time the last retention run ended.",
        registry=metrics.registry,
    )

    async def refresh() -> None:
        totals, last = await retention.totals()
        deleted.values = {(name,): n for name, n in totals.items()}
        if last is not None:
            last_run.set(last.timestamp())

    metrics.add_refresher(refresh)


def setup(app: web.Application) -> None:
    config = app[CONFIG].retention
    install_metrics(app[HUB].metrics, retention_for(app[MONGO], config))
    app.cleanup_ctx.append(retention_schedule_context)


async def retention_schedule_context(app: web.Application) -> AsyncIterator[None]:
    """Runs the schedule for the app's lifetime when ``retention.schedule_seconds`` > 0."""
    config = app[CONFIG].retention
    loop = None
    if config.schedule_seconds > 0:
        store = open_archive_store(app[CONFIG].archive)
        loop = RetentionSchedule(app[MONGO], config, store).loop()
    if loop is not None:
        loop.start()
    yield
    if loop is not None:
        await loop.stop()
