"""What ``/metrics`` reports of archiving, read from the database at scrape time.

Archiving runs in the hub (``archive.schedule_seconds``) or in ``chorus archive run``: either
way every finished run records its totals in ``archive_runs``, and the backlog is whatever
is due and not archived yet, so any hub instance can report both.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.archiver import not_restored
from storage.errors import StorageBoundary
from storage.mongo import MongoStore

# The backlog's oldest due conversation (``/metrics`` reads it at every scrape): resolved,
# not archived (``archived: null`` matches the missing field from the index), oldest first.


class ArchiveBacklog(StorageBoundary):
    """What ``/metrics`` reports of archiving: documents archived, and how late it runs."""

    # How many of the oldest due conversations are read to skip restored ones.
    SCAN = 100

    def __init__(self, mongo: MongoStore, *, after_days: int) -> None:
        self.after_days = after_days
        self.conversations = mongo.collection("conversations")
        self.runs = mongo.collection("archive_runs")
        self.catalog = mongo.collection("archive_catalog")

    async def archived(self) -> dict[str, int]:
        """Conversations and messages archived by every finished run."""
        totals = {"conversations": 0, "messages": 0}
        async for run in self.runs.find({"phase": "done"}, {"archived": 1}):
            for collection, count in (run.get("archived") or {}).items():
                totals[collection] = totals.get(collection, 0) + int(count)
        return totals

    async def overdue_seconds(self, now: datetime) -> float:
        """How long the oldest conversation due for archiving has waited past
        ``archive.after_days`` (0 when nothing is due): grows while archiving is stuck."""
        cutoff = now - timedelta(days=self.after_days)
        query = {"status": "resolved", "archived": None, "updated_at": {"$lt": cutoff}}
        oldest = await self.conversations.find(
            query, {"_id": 1, "updated_at": 1}, sort=[("updated_at", 1)], limit=self.SCAN
        ).to_list()
        due = await not_restored(self.catalog, oldest)
        if not due:
            return 0.0
        oldest_at: datetime = due[0]["updated_at"]
        return max((cutoff - oldest_at).total_seconds(), 0.0)
