"""Backup and archive metrics, copied from the database into ``HubMetrics`` at each scrape.

``chorus backup`` and ``chorus archive run`` are separate processes, and the scheduled
archiver runs on one instance only: counting in memory would show each run on one
process's ``/metrics`` at best. Both record their runs in the database, so every hub
instance exports the same figures, and an alert on
``time() - chorus_backup_last_success_timestamp_seconds`` sees backups taken anywhere.
"""

from __future__ import annotations

from hub.config.model import ArchiveConfig
from hub.domain import utcnow
from hub.runtime.metrics import HubMetrics
from storage.archive_backlog import ArchiveBacklog
from storage.backup_runs import BackupRunStore
from storage.mongo import MongoStore


def install_job_metrics(metrics: HubMetrics, mongo: MongoStore, archive: ArchiveConfig) -> None:
    backups = BackupRunStore(mongo.db)
    backlog = ArchiveBacklog(mongo, after_days=archive.after_days)

    async def refresh_backups() -> None:
        summary = await backups.summary()
        metrics.backup_runs.values = {(outcome,): n for outcome, n in summary.runs.items()}
        if summary.last_success_at is not None:
            metrics.backup_last_success.set(summary.last_success_at.timestamp())
            metrics.backup_bytes.set(summary.last_success_bytes)

    async def refresh_archive() -> None:
        archived = await backlog.archived()
        metrics.archive_documents.values = {(name,): n for name, n in archived.items()}
        metrics.archive_lag.set(await backlog.overdue_seconds(utcnow()))

    metrics.add_refresher(refresh_backups)
    metrics.add_refresher(refresh_archive)
