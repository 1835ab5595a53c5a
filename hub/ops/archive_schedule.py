"""The scheduled archiver: every ``archive.schedule_seconds``, on one hub instance only.

Instances compete for the ``archive-schedule`` lease each tick; the holder renews it by
running its ticks and is the only one that archives. If it stops, the lease lapses after
three intervals and another instance takes over.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator

from aiohttp import web

from hub.config.model import ArchiveConfig
from hub.domain import new_id
from hub.runtime.background import BackgroundLoop
from hub.state import CONFIG, MONGO
from storage.archive_store import open_archive_store
from storage.archiver import Archiver
from storage.leases import LeaseStore, LeaseUnavailable
from storage.mongo import MongoStore

log = logging.getLogger(__name__)
LEASE = "archive-schedule"


class ArchiveSchedule:
    def __init__(self, mongo: MongoStore, config: ArchiveConfig) -> None:
        self.interval = config.schedule_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{new_id()}"
        self.leases = LeaseStore(mongo)
        self.archiver = Archiver(
            mongo,
            open_archive_store(config),
            after_days=config.after_days,
            delete_after_archive=config.delete_after_archive,
        )

    async def tick(self) -> bool:
        """Archive if this instance holds the schedule lease; True when it did."""
        if not await self.leases.acquire(LEASE, self.owner, self.interval * 3):
            return False
        try:
            report = await self.archiver.run()
        except LeaseUnavailable:  # a manual ``chorus archive run`` is in progress
            return False
        log.info(
            "archive run finished",
            extra={"conversations": report.conversations, "messages": report.messages},
        )
        return True

    def loop(self) -> BackgroundLoop:
        """The schedule as a background loop: a failed run is retried next interval."""

        async def tick() -> None:
            await self.tick()

        return BackgroundLoop(
            "archive-schedule", tick, interval=self.interval, max_retry=self.interval, logger=log
        )


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(archive_schedule_context)


async def archive_schedule_context(app: web.Application) -> AsyncIterator[None]:
    """Runs the schedule for the app's lifetime when ``archive.schedule_seconds`` > 0."""
    config = app[CONFIG].archive
    loop = ArchiveSchedule(app[MONGO], config).loop() if config.schedule_seconds > 0 else None
    if loop is not None:
        loop.start()
    yield
    if loop is not None:
        await loop.stop()
