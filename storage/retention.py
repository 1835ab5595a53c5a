"""Retention: what has outlived its policy leaves MongoDB, in bounded day windows.

Each rule walks its collection from the oldest document to the cutoff one day at a time
(an indexed range per window, since SecantusDB reads every match of a query before its
limit) and deletes what is due:

- resolved conversations, with their messages, ``keep`` days after they were last
  updated, per channel, and only once the archiver has stored them (``archived`` set);
- rejected comments ``rejected_comments_days`` after they arrived;
- audit entries ``audit_days`` after they were written;
- backup chains ``backups_days`` after their last backup, never the newest chain.

Legal holds on a contact or conversation exempt it. A dry run reads the same windows and
deletes nothing. Every run, dry or not, is recorded in ``retention_runs``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import DeleteMany

from hub.domain import new_id, utcnow
from storage.archive_store import ArchiveStore
from storage.backup_expiry import backup_expiries, delete_backup
from storage.errors import StorageBoundary
from storage.legal_holds import LegalHoldStore
from storage.mongo import Document, MongoStore
from storage.progress import Progress

WINDOW = timedelta(days=1)
SAMPLE = 20  # ids per collection a report lists
TOTALS = "totals"  # the document in ``retention_runs`` counting every real run's deletions


@dataclass(frozen=True)
class RetentionPolicy:
    """Days to keep (0: for ever). ``channels`` overrides ``conversations_days``."""

    conversations_days: int = 0
    channels: Mapping[str, int] = field(default_factory=dict)
    rejected_comments_days: int = 0
    audit_days: int = 0
    backups_days: int = 0  # backup chains expire this long after their last backup


@dataclass
class RetentionReport:
    dry_run: bool
    deleted: Counter[str] = field(default_factory=Counter)
    held: int = 0
    not_archived: int = 0
    sample: dict[str, list[str]] = field(default_factory=dict)

    def note(self, collection: str, ids: list[Any], count: int | None = None) -> None:
        if not ids and not count:
            return
        self.deleted[collection] += len(ids) if count is None else count
        kept = self.sample.setdefault(collection, [])
        kept.extend(str(i) for i in ids[: max(SAMPLE - len(kept), 0)])

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "deleted": dict(self.deleted),
            "held": self.held,
            "not_archived": self.not_archived,
            "sample": self.sample,
        }


def oid_at(at: datetime) -> str:
    """The smallest id (``hub.domain.new_id``) made at ``at``: ids sort by creation."""
    return str(ObjectId.from_datetime(at))


class Retention(StorageBoundary):
    def __init__(
        self,
        mongo: MongoStore,
        policy: RetentionPolicy,
        batch: int = 500,
        store: ArchiveStore | None = None,
    ) -> None:
        self.policy = policy
        self.store = store
        self.batch = batch
        self.conversations = mongo.collection("conversations")
        self.messages = mongo.collection("messages")
        self.comments = mongo.collection("comments")
        self.audit = mongo.collection("audit_log")
        self.runs = mongo.collection("retention_runs")
        self.holds = LegalHoldStore(mongo)

    async def run(
        self, *, dry_run: bool, now: datetime | None = None, owner: str = "cli"
    ) -> RetentionReport:
        """Apply the policy once (``owner`` says who ran it, in the run's record)."""
        now = now or utcnow()
        started = utcnow()
        report = RetentionReport(dry_run)
        progress = Progress("retention" + (" (dry run)" if dry_run else ""))
        await self._conversations(now, report, progress)
        if self.policy.rejected_comments_days:
            await self._comments(now - timedelta(days=self.policy.rejected_comments_days), report)
        if self.policy.audit_days:
            await self._audit(now - timedelta(days=self.policy.audit_days), report)
        if self.policy.backups_days and self.store is not None:
            await self._backups(self.store, now, report)
        progress.done()
        record = {"_id": new_id(), "owner": owner, "started_at": started, "finished_at": utcnow()}
        await self.runs.insert_one(record | report.as_dict())
        if not dry_run and report.deleted:
            increments = {f"deleted.{name}": n for name, n in report.deleted.items()}
            await self.runs.update_one({"_id": TOTALS}, {"$inc": increments}, upsert=True)
        return report

    # -- conversations and their messages ---------------------------------------------
    def _rules(self) -> list[tuple[Document, int]]:
        """(channel filter, days) for each policy that deletes anything."""
        listed = dict(self.policy.channels)
        rules: list[tuple[Document, int]] = [
            ({"channel": name}, days) for name, days in listed.items() if days > 0
        ]
        if self.policy.conversations_days > 0:
            rules.append(({"channel": {"$nin": list(listed)}}, self.policy.conversations_days))
        return rules

    async def _conversations(self, now: datetime, report: RetentionReport, p: Progress) -> None:
        for channel, days in self._rules():
            cutoff = now - timedelta(days=days)
            oldest = await self.conversations.find_one(
                {"status": "resolved", "updated_at": {"$lt": cutoff}}, sort=[("updated_at", 1)]
            )
            start = oldest["updated_at"] if oldest else cutoff
            while start < cutoff:
                end = min(start + WINDOW, cutoff)
                query = {"status": "resolved", "updated_at": {"$gte": start, "$lt": end}}
                found = await self.conversations.find(
                    query | channel, {"_id": 1, "contact_id": 1, "archived": 1}
                ).to_list()
                await self._delete_conversations(found, report)
                p.add(len(found))
                start = end

    async def _delete_conversations(self, found: list[Document], report: RetentionReport) -> None:
        archived = [d for d in found if d.get("archived")]
        report.not_archived += len(found) - len(archived)
        held_contacts = await self.holds.held("contact", {d["contact_id"] for d in archived})
        held_conversations = await self.holds.held("conversation", [d["_id"] for d in archived])
        due = [
            d["_id"]
            for d in archived
            if d["_id"] not in held_conversations and d["contact_id"] not in held_contacts
        ]
        report.held += len(archived) - len(due)
        for start in range(0, len(due), self.batch):
            ids = due[start : start + self.batch]
            messages = 0
            for cid in ids:  # one indexed count each (bounded by its conversation)
                messages += await self.messages.count_documents({"conversation_id": cid})
            if not report.dry_run:
                await self.messages.bulk_write([DeleteMany({"conversation_id": c}) for c in ids])
                await self.conversations.delete_many(
                    {"_id": {"$in": ids}, "archived": {"$ne": None}}
                )
            report.note("conversations", ids)
            report.note("messages", [], messages)

    # -- rejected comments and audit entries -------------------------------------------
    async def _comments(self, cutoff: datetime, report: RetentionReport) -> None:
        oldest = await self.comments.find_one({"status": "rejected"}, sort=[("_id", 1)])
        start = ObjectId(oldest["_id"]).generation_time if oldest else cutoff
        while start < cutoff:
            end = min(start + WINDOW, cutoff)
            window = {"status": "rejected", "_id": {"$gte": oid_at(start), "$lt": oid_at(end)}}
            ids = await self.comments.distinct("_id", window)
            if ids and not report.dry_run:
                await self.comments.delete_many({"_id": {"$in": ids}, "status": "rejected"})
            report.note("comments", ids)
            start = end

    async def _audit(self, cutoff: datetime, report: RetentionReport) -> None:
        oldest = await self.audit.find_one({}, sort=[("at", 1)])
        start = oldest["at"] if oldest else cutoff
        while start < cutoff:
            end = min(start + WINDOW, cutoff)
            ids = await self.audit.distinct("_id", {"at": {"$gte": start, "$lt": end}})
            if ids and not report.dry_run:
                await self.audit.delete_many({"_id": {"$in": ids}})
            report.note("audit_log", ids)
            start = end

    async def _backups(self, store: ArchiveStore, now: datetime, report: RetentionReport) -> None:
        """Delete backup chains past their expiry (``storage.backup_expiry``)."""
        expired = [
            e.backup_id
            for e in await backup_expiries(store, self.policy.backups_days)
            if e.expires_at is not None and e.expires_at <= now
        ]
        if not report.dry_run:
            for backup_id in expired:
                await delete_backup(store, backup_id)
        report.note("backups", expired)

    async def totals(self) -> tuple[dict[str, int], datetime | None]:
        """Documents deleted by all runs that were not dry, and when the last run ended."""
        totals = await self.runs.find_one({"_id": TOTALS}) or {}
        last = await self.runs.find_one(
            {"finished_at": {"$type": "date"}}, sort=[("finished_at", -1)]
        )
        deleted = {str(k): int(v) for k, v in (totals.get("deleted") or {}).items()}
        return deleted, last["finished_at"] if last else None
