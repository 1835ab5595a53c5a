"""A small, known history for reports: documents shaped as the hub stores them.

Today (UTC, from ``base``): three web conversations and one Telegram one. Alice answers
two (after 60 s and 600 s), Bob one (after 30 s) and the bot contains the Telegram one.
The conversations carry ``first_reply_at`` and ``human_at`` as the report listener keeps them.
Two are resolved, one of them reopened later; three ratings; comments of each verdict
(three still held: web at ``base`` and ``base`` + 2 min, a Telegram post at ``base`` + 1 min);
two unanswered questions, one asked twice; three external bot failures (two on the web).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId


def _conversation(cid: str, channel: str, assignee: str | None, at: datetime, **extra: Any) -> Any:
    return {
        "_id": cid,
        "contact_id": f"contact-{cid}",
        "channel": channel,
        "thread_key": cid,
        "recipient_id": cid,
        "status": "open",
        "assignee": assignee,
        "labels": [],
        "priority": 0,
        "route": {},
        "created_at": at,
        "updated_at": at,
        "last_message_at": at,
        **extra,
    }


def _message(cid: str, channel: str, kind: str, at: datetime, **extra: Any) -> Any:
    return {
        "_id": str(ObjectId()),
        "conversation_id": cid,
        "contact_id": f"contact-{cid}",
        "channel": channel,
        "external_id": str(ObjectId()),
        "direction": "inbound" if kind == "contact" else "outbound",
        "author": {"kind": kind, "id": kind, "name": ""},
        "text": "hello",
        "attachments": [],
        "created_at": at,
        "private": False,
        **extra,
    }


def _move(cid: str, src: str, dst: str, at: datetime, reason: str | None, who: Any = None) -> Any:
    return {
        "_id": str(ObjectId()),
        "conversation_id": cid,
        "from": src,
        "to": dst,
        "actor": "bot",
        "reason": reason,
        "assignee": who,
        "at": at,
    }


async def seed_reports(db: Any, base: datetime, tag: str = "") -> None:
    """Insert the history; ``base`` is early today (UTC) so that every time stays today.
    ``tag`` prefixes the ids, so the same day can be seeded more than once."""
    at = base
    await db.conversations.insert_many(
        [
            _conversation(tag + "c1", "web", "alice", at, status="resolved", resolved_at=at + timedelta(hours=1),
                          first_reply_at=at + timedelta(seconds=60), human_at=at + timedelta(seconds=2)),
            _conversation(tag + "c2", "web", "alice", at + timedelta(minutes=5),
                          first_reply_at=at + timedelta(minutes=15), human_at=at + timedelta(minutes=6)),
            _conversation(tag + "c3", "web", "bob", at + timedelta(minutes=10),
                          first_reply_at=at + timedelta(minutes=10, seconds=30), human_at=at + timedelta(minutes=11)),
            _conversation(tag + "c4", "telegram", None, at, status="resolved", resolved_at=at + timedelta(minutes=20)),
        ]
    )  # fmt: skip
    await db.messages.insert_many(
        [
            _message(tag + "c1", "web", "contact", at),
            _message(tag + "c1", "web", "bot", at + timedelta(seconds=1)),
            _message(tag + "c1", "web", "agent", at + timedelta(seconds=60)),
            _message(tag + "c1", "web", "agent", at + timedelta(seconds=90)),
            _message(tag + "c2", "web", "contact", at + timedelta(minutes=5)),
            _message(
                tag + "c2", "web", "agent", at + timedelta(minutes=5, seconds=5), private=True
            ),
            _message(tag + "c2", "web", "agent", at + timedelta(minutes=15)),
            _message(tag + "c3", "web", "contact", at + timedelta(minutes=10)),
            _message(tag + "c3", "web", "agent", at + timedelta(minutes=10, seconds=30)),
            _message(tag + "c4", "telegram", "contact", at),
            _message(tag + "c4", "telegram", "bot", at + timedelta(seconds=1)),
        ]
    )
    await db.conversation_events.insert_many(
        [
            _move(tag + "c1", "bot", "open", at + timedelta(seconds=2), "customer_request"),
            _move(tag + "c1", "open", "assigned", at + timedelta(seconds=3), None, "alice"),
            _move(tag + "c2", "bot", "open", at + timedelta(minutes=6), "low_confidence"),
            _move(tag + "c3", "bot", "open", at + timedelta(minutes=11), "low_confidence"),
            _move(tag + "c4", "bot", "resolved", at + timedelta(minutes=20), "resolved"),
            _move(tag + "c1", "resolved", "assigned", at + timedelta(hours=2), "reopened", "alice"),
        ]
    )
    await db.ratings.insert_many(
        [
            {"_id": tag + "c1", "contact_id": "x", "score": 5, "assignee": "alice", "at": at},
            {"_id": tag + "c2", "contact_id": "x", "score": 3, "assignee": "alice", "at": at},
            {"_id": tag + "c3", "contact_id": "x", "score": 1, "assignee": "bob", "at": at},
        ]
    )
    await db.comments.insert_many(
        [
            _comment("approved", "classifier", "ok", at),
            _comment("approved", "classifier", "ok", at),
            _comment("held", "links", "too_many_links", at),
            _comment("rejected", "blocklist", "blocked_word", at),
            _comment("held", "links", "too_many_links", at + timedelta(minutes=1), "telegram"),
            _comment("held", "classifier", "spam", at + timedelta(minutes=2)),
        ]
    )
    day = at.date().isoformat()
    await db.bot_webhook_failures.insert_many(
        [
            {"_id": f"{day}|web|timeout|{tag}", "day": day, "channel": "web", "kind": "timeout",
             "count": 2},
            {"_id": f"{day}|telegram|http_status|{tag}", "day": day, "channel": "telegram",
             "kind": "http_status", "count": 1},
        ]
    )  # fmt: skip
    await db.bot_misses.insert_many(
        [
            {
                "conversation_id": tag + "c2",
                "channel": "web",
                "text": "Do you ship to Mars?",
                "at": at,
            },
            {
                "conversation_id": tag + "c3",
                "channel": "web",
                "text": "do you  ship to mars?",
                "at": at,
            },
            {
                "conversation_id": tag + "c4",
                "channel": "telegram",
                "text": "=HYPERLINK()",
                "at": at,
            },
        ]
    )


def _comment(status: str, stage: str, reason: str, at: datetime, social: str = "") -> Any:
    return {
        "_id": str(ObjectId()),
        "source": "social" if social else "web",
        "external": {"channel": social, "message_id": str(ObjectId())} if social else None,
        "status": status,
        "text": "a comment",
        "created_at": at,
        "decision": {"status": status, "stage": stage, "reason": reason},
    }
