"""The record of backup runs (``backup_runs``), kept in the database that was backed up.

``chorus backup`` runs in its own process, so the hub cannot count its runs in memory:
each run writes one document here when it ends (success or failure), and the hub's
``/metrics`` reads the counts and the last success at scrape time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from hub.domain import new_id, utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document

log = logging.getLogger(__name__)

COLLECTION = "backup_runs"
Outcome = Literal["success", "failure"]
OUTCOMES: tuple[Outcome, ...] = ("success", "failure")


@dataclass(frozen=True, slots=True)
class BackupRunSummary:
    """Runs per outcome, and the last successful one's end time and size."""

    runs: dict[str, int] = field(default_factory=dict)
    last_success_at: datetime | None = None
    last_success_bytes: int = 0


class BackupRunStore(StorageBoundary):
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.runs = db[COLLECTION]

    async def record(
        self,
        outcome: Outcome,
        kind: str,
        started_at: datetime,
        *,
        backup_id: str | None = None,
        nbytes: int = 0,
        error: str | None = None,
    ) -> None:
        """Write one run's outcome. A database that cannot take it is logged, not raised:
        the backup's own result (or error) is what the caller must see."""
        doc: Document = {
            "_id": backup_id or new_id(),
            "outcome": outcome,
            "kind": kind,
            "started_at": started_at,
            "finished_at": utcnow(),
            "bytes": nbytes,
            "error": error,
        }
        try:
            await self.runs.insert_one(doc)
        except PyMongoError as exc:
            log.warning("backup run not recorded", extra={"outcome": outcome, "error": str(exc)})

    async def summary(self) -> BackupRunSummary:
        runs: dict[str, int] = {
            o: await self.runs.count_documents({"outcome": o}) for o in OUTCOMES
        }
        last = await self.runs.find_one({"outcome": "success"}, sort=[("finished_at", -1)])
        if last is None:
            return BackupRunSummary(runs)
        return BackupRunSummary(runs, last["finished_at"], int(last.get("bytes", 0)))
