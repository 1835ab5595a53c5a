"""Every collection's indexes, in one table.

Start-up, ``chorus db init`` and the doctor's index check all read this table, so an empty
database prepared by any of them gets the same unique indexes that deduplication relies on.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

# Slack and Telegram retry deliveries for hours; a week covers every platform's retry window.
SEEN_EVENT_RETENTION_SECONDS = 7 * 24 * 3600

INDEXES: dict[str, list[IndexModel]] = {
    "contacts": [
        # Webhook events owed by the document's last write (storage/webhook_journal.py).
        IndexModel([("webhooks_owed_at", ASCENDING)], name="webhooks_owed", sparse=True),
        # "channel:external id" for each identity: a plain multikey equality lookup that
        # every MongoDB-wire server serves from the index ($elemMatch plans vary).
        IndexModel([("identity_keys", ASCENDING)], name="identity_unique", unique=True),
    ],
    "conversations": [
        # Webhook events owed by the document's last write (storage/webhook_journal.py).
        IndexModel([("webhooks_owed_at", ASCENDING)], name="webhooks_owed", sparse=True),
        # Only active conversations carry open_key (it is unset on resolution); sparse, not
        # partial, so plain equality queries can use the index.
        IndexModel([("open_key", ASCENDING)], name="open_key_unique", unique=True, sparse=True),
        IndexModel([("last_message_at", DESCENDING), ("_id", DESCENDING)], name="recent"),
        IndexModel(
            [("status", ASCENDING), ("last_message_at", DESCENDING), ("_id", DESCENDING)],
            name="status_recent",
        ),
        IndexModel(
            [("assignee", ASCENDING), ("last_message_at", DESCENDING), ("_id", DESCENDING)],
            name="assignee_recent",
        ),
        IndexModel([("contact_id", ASCENDING), ("_id", DESCENDING)], name="contact"),
        # Retention: resolved conversations by age, read in bounded time windows.
        IndexModel([("status", ASCENDING), ("updated_at", ASCENDING)], name="resolved_age"),
        # The assignment queue (open, unassigned; most urgent, then longest waiting first)
        # and agents' loads, read on every handoff and every SLA check.
        IndexModel(
            [
                ("status", ASCENDING),
                ("assignee", ASCENDING),
                ("priority", DESCENDING),
                ("waiting_since", ASCENDING),
                ("_id", ASCENDING),
            ],
            name="queue",
        ),
        IndexModel(
            [("status", ASCENDING), ("assignee", ASCENDING), ("waiting_since", ASCENDING)],
            name="waiting_queue",
        ),
        # The archive's backlog: the oldest resolved conversation not yet archived.
        IndexModel(
            [("status", ASCENDING), ("archived", ASCENDING), ("updated_at", ASCENDING)],
            name="archive_due",
        ),
        # Daily report rollups (storage/reports.py): conversations started or resolved on a day.
        IndexModel([("created_at", ASCENDING)], name="started"),
        IndexModel([("resolved_at", ASCENDING)], name="resolved"),
    ],
    "messages": [
        # Webhook events owed by the document's last write (storage/webhook_journal.py).
        IndexModel([("webhooks_owed_at", ASCENDING)], name="webhooks_owed", sparse=True),
        # Every message has an external id (outbound ones get a hub-made one), so a platform
        # retry or a client resend can never store a second copy.
        IndexModel(
            [("channel", ASCENDING), ("external_id", ASCENDING)],
            name="channel_external_id_unique",
            unique=True,
        ),
        IndexModel([("conversation_id", ASCENDING), ("_id", ASCENDING)], name="thread"),
        # A conversation's seqs are unique (storage/sequence.py allocates them by insert).
        # Messages stored before seqs existed have none: the unique index is partial, and
        # range reads use the plain one (the embedded server plans no query on a partial).
        IndexModel(
            [("conversation_id", ASCENDING), ("seq", ASCENDING)],
            name="conversation_seq_unique",
            unique=True,
            partialFilterExpression={"seq": {"$type": "int"}},
        ),
        IndexModel(
            [("conversation_id", ASCENDING), ("seq", ASCENDING), ("_id", ASCENDING)],
            name="conversation_seq",
        ),
        IndexModel([("channel", ASCENDING), ("_id", ASCENDING)], name="channel_order"),
        IndexModel([("contact_id", ASCENDING), ("_id", ASCENDING)], name="contact_order"),
        IndexModel([("created_at", ASCENDING), ("_id", ASCENDING)], name="created"),
        IndexModel(
            [("delivery.status", ASCENDING), ("delivery.next_attempt_at", ASCENDING)],
            name="outbox",
            partialFilterExpression={"delivery.status": "pending"},
        ),
    ],
    "webhook_deliveries": [
        # The lease queue's index (storage/outbox.py), as on messages.
        IndexModel(
            [("delivery.status", ASCENDING), ("delivery.next_attempt_at", ASCENDING)],
            name="outbox",
            partialFilterExpression={"delivery.status": "pending"},
        ),
        # Dead letters by time range, and the oldest pending delivery (the lag).
        IndexModel(
            [("delivery.status", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
            name="status_created",
        ),
    ],
    # Each agent's read mark per conversation (storage/presence.py), listed by agent.
    # Typing and read receipts shared between instances (storage/presence.py): ephemeral.
    "presence_signals": [
        IndexModel([("at", ASCENDING)], name="expires", expireAfterSeconds=60),
    ],
    "agent_reads": [
        IndexModel([("agent_id", ASCENDING), ("read_at", DESCENDING)], name="agent_recent"),
    ],
    "conversation_events": [
        IndexModel([("conversation_id", ASCENDING), ("at", ASCENDING)], name="thread"),
        IndexModel([("to", ASCENDING), ("at", DESCENDING)], name="to_recent"),
        IndexModel([("at", ASCENDING)], name="at"),  # a day's moves, for reports
    ],
    "agents": [
        IndexModel(
            [("slack_user_id", ASCENDING)],
            name="slack_user_unique",
            unique=True,
            partialFilterExpression={"slack_user_id": {"$type": "string"}},
        ),
        IndexModel(
            [("email", ASCENDING)],
            name="email_unique",
            unique=True,
            partialFilterExpression={"email": {"$type": "string"}},
        ),
    ],
    "refresh_tokens": [
        IndexModel([("expires_at", ASCENDING)], name="expiry_ttl", expireAfterSeconds=0),
        IndexModel([("family", ASCENDING)], name="family"),
        IndexModel([("agent_id", ASCENDING)], name="agent"),
    ],
    "service_tokens": [IndexModel([("hash", ASCENDING)], name="hash_unique", unique=True)],
    "audit_log": [
        IndexModel([("at", DESCENDING)], name="at"),
        IndexModel([("who", DESCENDING), ("at", DESCENDING)], name="who_at"),
    ],
    "links": [
        IndexModel(
            [("channel", ASCENDING), ("kind", ASCENDING), ("key", ASCENDING)],
            name="link_unique",
            unique=True,
        ),
        IndexModel(
            [("conversation_id", ASCENDING), ("channel", ASCENDING)], name="by_conversation"
        ),
    ],
    "seen_events": [
        IndexModel(
            [("seen_at", ASCENDING)],
            name="expire",
            expireAfterSeconds=SEEN_EVENT_RETENTION_SECONDS,
        )
    ],
    "canned_responses": [
        IndexModel([("shortcut", ASCENDING)], name="shortcut_unique", unique=True)
    ],
    "comments": [
        # Webhook events owed by the document's last write (storage/webhook_journal.py).
        IndexModel([("webhooks_owed_at", ASCENDING)], name="webhooks_owed", sparse=True),
        IndexModel(
            [("external.channel", ASCENDING), ("external.message_id", ASCENDING)],
            name="external_unique",
            unique=True,
            partialFilterExpression={"external.message_id": {"$type": "string"}},
        ),
        IndexModel(
            [("status", ASCENDING), ("published_at", DESCENDING), ("_id", DESCENDING)],
            name="published",
        ),
        IndexModel(
            [("target", ASCENDING), ("status", ASCENDING), ("published_at", DESCENDING)],
            name="target_published",
        ),
        IndexModel([("status", ASCENDING), ("_id", ASCENDING)], name="status_order"),
        IndexModel([("digest", ASCENDING), ("created_at", DESCENDING)], name="digest"),
        IndexModel([("bands", ASCENDING), ("created_at", DESCENDING)], name="bands"),
        IndexModel([("author.key", ASCENDING), ("created_at", DESCENDING)], name="author"),
        IndexModel([("author.key", ASCENDING), ("status", ASCENDING)], name="author_status"),
        IndexModel([("author.trust_key", ASCENDING), ("status", ASCENDING)], name="trust_status"),
        IndexModel([("address_hash", ASCENDING), ("created_at", DESCENDING)], name="address"),
        IndexModel([("created_at", ASCENDING)], name="created"),  # a day's verdicts, for reports
        # The moderation queue's age in reports: held comments by when they came.
        IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="status_created"),
    ],
    "ratings": [IndexModel([("at", ASCENDING)], name="recent")],
    # The bot's unanswered turns, read a day at a time by reports.
    "bot_misses": [
        IndexModel([("at", ASCENDING)], name="expire", expireAfterSeconds=400 * 24 * 3600),
        IndexModel([("conversation_id", ASCENDING)], name="conversation"),  # erasure
    ],
    "archive_catalog": [
        IndexModel([("resolved_at", ASCENDING)], name="resolved_at"),
        # A person's archived conversations (erasure, export) and an object's entries.
        IndexModel([("contact_id", ASCENDING)], name="contact"),
        IndexModel([("key", ASCENDING)], name="object"),
    ],
    # Erasure: a person's uploads, and whether anyone else's message holds the same file.
    "media": [
        IndexModel([("owner", ASCENDING)], name="owner"),
        IndexModel([("attachment.sha256", ASCENDING)], name="content"),
    ],
    "archive_runs": [IndexModel([("phase", ASCENDING)], name="phase")],
    "backup_runs": [
        IndexModel([("outcome", ASCENDING), ("finished_at", DESCENDING)], name="outcome_finished")
    ],
    "retention_runs": [IndexModel([("finished_at", DESCENDING)], name="finished")],
    "api_channels": [IndexModel([("token_hash", ASCENDING)], name="token_unique", unique=True)],
}
