"""Daily report buckets: one small document per UTC day, rolled up from bounded ranges.

A report over 30 days reads 30 ``report_days`` documents instead of the month's messages.
A day is rolled up from indexed ranges only (conversations started, resolved and moved
that day, ratings and comments of that day, the bot's unanswered turns of that day);
no message is read. Two times kept on the conversation by an inbox listener
(``note_first_reply``, ``note_human``) give first response and containment: the embedded
server answers ``$in`` on a secondary index with a collection scan, so looking them up
in ``messages`` or ``conversation_events`` per conversation is not an option.
A bucket is recomputed (in the background, the report answering with the one it has)
when it is older than ``REFRESH``, until ``SETTLE`` after its day ended; from then on it
is final and only read.

Each row of a bucket is one (channel, agent) pair and keeps raw seconds for first
response and resolution, so medians and p90s over any filter and range are exact. They are
stored packed (little-endian uint32 bytes): a month of a busy inbox is then a few hundred
kilobytes read as 30 binary values, not hundreds of thousands of array elements.
A bucket of an older ``VERSION`` is rolled up again when read.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from array import array
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hub.domain import utcnow
from storage.errors import StorageBoundary
from storage.mongo import Document, MongoStore
from storage.report_times import ConversationTimes

log = logging.getLogger(__name__)

REFRESH = timedelta(seconds=60)
SETTLE = timedelta(days=2)
HUMAN_STAGES = ("open", "assigned", "pending")
UNANSWERED_PER_DAY = 50
VERSION = 2
PACKED = ("frt", "res")

RowKey = tuple[str, str | None]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _row(channel: str, agent: str | None) -> Document:
    return {
        "channel": channel,
        "agent": agent,
        "new": 0,
        "reopened": 0,
        "frt": [],
        "res": [],
        "resolved": 0,
        "contained": 0,
        "handoffs": {},
        "ratings": [0, 0, 0, 0, 0],
    }


class ReportStore(StorageBoundary):
    """``report_days`` buckets, and the rollup that fills them from the live collections."""

    def __init__(self, mongo: MongoStore) -> None:
        self.days = mongo.collection("report_days")
        self.conversations = mongo.collection("conversations")
        self.messages = mongo.collection("messages")
        self.events = mongo.collection("conversation_events")
        self.ratings = mongo.collection("ratings")
        self.comments = mongo.collection("comments")
        self.misses = mongo.collection("bot_misses")
        self.webhook_failures = mongo.collection("bot_webhook_failures")
        self._refreshing: dict[date, asyncio.Task[Document | None]] = {}
        self.times = ConversationTimes(mongo)

    async def buckets(self, first: date, last: date, now: datetime | None = None) -> list[Document]:
        """The buckets of ``first`` .. ``last`` (inclusive), rolling up stale ones."""
        given, now = now, now or utcnow()
        ids = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
        stored = {
            doc["_id"]: doc
            async for doc in self.days.find({"_id": {"$gte": ids[0], "$lte": ids[-1]}})
        }
        result = []
        for day_id in ids:
            doc = stored.get(day_id)
            if doc is None or doc.get("version") != VERSION:
                # Stamped when it is computed, not when the report was asked: a month rolled
                # up in one report is otherwise stale (and rolled up again) at once.
                doc = await self.rollup(date.fromisoformat(day_id), given)
            elif not doc["final"] and now - _aware(doc["computed_at"]) > REFRESH:
                self._refresh_later(date.fromisoformat(day_id))
            result.append(_unpacked(doc))
        return result

    def _refresh_later(self, day: date) -> None:
        """Roll a stale day up again in the background: the report answers with the
        bucket it has (at most a refresh period old) instead of waiting for the rollup."""
        if day in self._refreshing:
            return
        task = asyncio.get_running_loop().create_task(self._quiet_rollup(day), name=f"report {day}")
        self._refreshing[day] = task
        task.add_done_callback(lambda _: self._refreshing.pop(day, None))

    async def _quiet_rollup(self, day: date) -> Document | None:
        try:
            return await self.rollup(day)
        except Exception:  # the next report tries again; this one already has its answer
            log.warning("report rollup failed", extra={"day": day.isoformat()}, exc_info=True)
            return None

    async def rollup(self, day: date, now: datetime | None = None) -> Document:
        """Compute and store the bucket of ``day``."""
        now = now or utcnow()
        start = day_start(day)
        span = {"$gte": start, "$lt": start + timedelta(days=1)}
        rows: dict[RowKey, Document] = {}

        def row(channel: str, agent: str | None) -> Document:
            return rows.setdefault((channel, agent), _row(channel, agent))

        for conv in await self._started(span):
            target = row(conv["channel"], conv.get("assignee"))
            target["new"] += 1
            if conv.get("first_reply_at") is not None:
                target["frt"].append(_seconds(conv["first_reply_at"] - conv["created_at"]))
        resolved = await self.conversations.find(
            {"resolved_at": span},
            {"channel": 1, "assignee": 1, "created_at": 1, "resolved_at": 1, "human_at": 1},
        ).to_list()
        for conv in resolved:
            target = row(conv["channel"], conv.get("assignee"))
            target["resolved"] += 1
            target["res"].append(_seconds(conv["resolved_at"] - conv["created_at"]))
            if conv.get("human_at") is None:
                target["contained"] += 1
        await self._moves(span, row)
        await self._rated(span, row)
        doc: Document = {
            "_id": day.isoformat(),
            "version": VERSION,
            "computed_at": now,
            "final": now >= start + timedelta(days=1) + SETTLE,
            "rows": [_packed(r) for r in rows.values()],
            "unanswered": await self._unanswered(span),
            "moderation": await self._moderation(span),
            "webhook_failures": await self._webhook_failures(day),
        }
        await self.days.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        return doc

    async def _started(self, span: Document) -> list[Document]:
        projection = {"channel": 1, "assignee": 1, "created_at": 1, "first_reply_at": 1}
        return await self.conversations.find({"created_at": span}, projection).to_list()

    async def note_first_reply(self, conversation_id: str, at: datetime) -> None:
        """Keep a conversation's first public agent reply time (the first one only)."""
        await self.times.note("first_reply_at", conversation_id, at)

    async def note_human(self, conversation_id: str, at: datetime) -> None:
        """Keep when a person first held the conversation (the bot did not contain it)."""
        await self.times.note("human_at", conversation_id, at)

    async def close(self) -> None:
        await self.times.close()

    async def _channels(self, conversation_ids: set[str]) -> dict[str, Document]:
        if not conversation_ids:
            return {}
        cursor = self.conversations.find(
            {"_id": {"$in": sorted(conversation_ids)}}, {"channel": 1, "assignee": 1}
        )
        return {doc["_id"]: doc async for doc in cursor}

    async def _moves(self, span: Document, row: Any) -> None:
        """Reopenings and the bot's handoffs (with their reasons) of the day."""
        moves = await self.events.find({"at": span}).to_list()
        moves = [
            m
            for m in moves
            if m.get("reason") == "reopened" or (m["from"] == "bot" and m["to"] in HUMAN_STAGES)
        ]
        owners = await self._channels({m["conversation_id"] for m in moves})
        for move in moves:
            conv = owners.get(move["conversation_id"])
            if conv is None:
                continue
            target = row(conv["channel"], move.get("assignee") or conv.get("assignee"))
            if move.get("reason") == "reopened":
                target["reopened"] += 1
            else:
                reason = str(move.get("reason") or "unknown")
                target["handoffs"][reason] = target["handoffs"].get(reason, 0) + 1

    async def _rated(self, span: Document, row: Any) -> None:
        ratings = await self.ratings.find({"at": span}).to_list()
        owners = await self._channels({r["_id"] for r in ratings})
        for rating in ratings:
            conv = owners.get(rating["_id"])
            score = int(rating.get("score", 0))
            if conv is None or not 1 <= score <= 5:
                continue
            row(conv["channel"], rating.get("assignee"))["ratings"][score - 1] += 1

    async def _unanswered(self, span: Document) -> list[Document]:
        counts: Counter[tuple[str, str]] = Counter()
        async for miss in self.misses.find({"at": span}, {"channel": 1, "text": 1}):
            counts[(miss["channel"], " ".join(str(miss["text"]).lower().split()))] += 1
        return [
            {"channel": channel, "text": text, "count": n}
            for (channel, text), n in counts.most_common(UNANSWERED_PER_DAY)
        ]

    async def _moderation(self, span: Document) -> list[Document]:
        counts: dict[tuple[str, str, str, str], int] = defaultdict(int)
        projection = {**_CHANNEL, "status": 1, "decision.stage": 1, "decision.reason": 1}
        async for doc in self.comments.find({"created_at": span}, projection):
            decision = doc.get("decision") or {}
            key = (
                comment_channel(doc),
                str(doc.get("status")),
                str(decision.get("stage") or ""),
                str(decision.get("reason") or ""),
            )
            counts[key] += 1
        return [
            {"channel": channel, "status": status, "stage": stage, "reason": reason, "count": n}
            for (channel, status, stage, reason), n in sorted(counts.items())
        ]

    async def _webhook_failures(self, day: date) -> list[Document]:
        """The external bot's failures of the day (``storage.bot``), per channel and kind."""
        ids = {"$gte": f"{day.isoformat()}|", "$lt": f"{day.isoformat()}}}"}  # "}" follows "|"
        cursor = self.webhook_failures.find({"_id": ids}, {"channel": 1, "kind": 1, "count": 1})
        return [
            {"channel": doc["channel"], "kind": doc["kind"], "count": int(doc["count"])}
            async for doc in cursor
        ]

    async def held(self, first: date) -> list[Document]:
        """Comments received since ``first`` that still wait for a moderator: their channel
        and when they came (the queue's age, read on the status-then-time index)."""
        span = {"$gte": day_start(first)}
        projection = {**_CHANNEL, "created_at": 1}
        return [
            {"channel": comment_channel(doc), "created_at": _aware(doc["created_at"])}
            async for doc in self.comments.find({"status": "held", "created_at": span}, projection)
        ]


_CHANNEL = {"source": 1, "external.channel": 1}


def comment_channel(doc: Document) -> str:
    """A comment's channel: a social post's platform, else its source (``web``)."""
    return str((doc.get("external") or {}).get("channel") or doc.get("source") or "web")


def _packed(row: Document) -> Document:
    return {**row, **{key: _pack(row[key]) for key in PACKED}}


def _unpacked(doc: Document) -> Document:
    rows = [{**row, **{key: _unpack(row[key]) for key in PACKED}} for row in doc["rows"]]
    return {**doc, "rows": rows}


def _pack(values: list[int]) -> bytes:
    packed = array("I", values)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def _unpack(data: bytes) -> list[int]:
    values = array("I")
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tolist()


def _seconds(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds()))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
