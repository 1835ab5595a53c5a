"""The hub's Prometheus metrics: one ``HubMetrics`` per app, on its own registry.

Every metric Chorus exports is declared here, with its label names, so a dashboard can be
built from this file alone and features that land later only have to call a helper.
Each app gets a dedicated ``CollectorRegistry`` (never the process-global default), so
several hubs in one process (the test suite) do not collide.

Label values are bounded: channels come from ``hub.domain.CHANNELS``, causes and reasons
from the small vocabularies below, commands from the MongoDB command names.

Metric (type) — labels — meaning:

- ``chorus_messages_received_total`` (counter) — channel — inbound messages stored
- ``chorus_messages_duplicate_total`` (counter) — channel — inbound retries dropped by dedup
- ``chorus_messages_sent_total`` (counter) — channel — outbound messages delivered
- ``chorus_delivery_failures_total`` (counter) — channel, reason — failed delivery attempts;
  reason ∈ ``DELIVERY_REASONS``
- ``chorus_webhook_rejections_total`` (counter) — channel, cause — refused platform or
  client input; cause ∈ ``REJECTION_CAUSES``; channel is ``api`` for the REST API
- ``chorus_http_requests_total`` (counter) — route, method, status
- ``chorus_http_request_seconds`` (histogram) — route
- ``chorus_websockets_open`` (gauge) — kind ∈ customer, agent
- ``chorus_web_limited_total`` (counter) — limit ∈ ``WEB_LIMITS`` — web chat messages
  refused over a rate (not stored) and connections refused over an address's limit
- ``chorus_outbox_pending`` (gauge) — outbound messages waiting (refreshed at scrape)
- ``chorus_outbox_inflight`` (gauge) — sends running now
- ``chorus_fanout_tasks`` (gauge) — event listener tasks running now
- ``chorus_storage_command_seconds`` (histogram) — command — MongoDB round trips
- ``chorus_storage_command_failures_total`` (counter) — command
- ``chorus_bot_replies_total`` (counter) — channel — answers the bot sent
- ``chorus_bot_contained_total`` (counter) — channel — conversations the bot resolved alone
- ``chorus_bot_handoffs_total`` (counter) — channel, reason — conversations passed to agents
- ``chorus_moderation_verdicts_total`` (counter) — channel, verdict
- ``chorus_archive_documents_total`` (counter) — collection — documents archived
- ``chorus_archive_lag_seconds`` (gauge) — age of the oldest document due for archiving
- ``chorus_backup_runs_total`` (counter) — outcome ∈ success, failure
- ``chorus_backup_last_success_timestamp_seconds`` (gauge) — Unix time of the last backup
- ``chorus_backup_bytes`` (gauge) — size of the last backup
- ``chorus_replication_events_total`` (counter) — target — changes mirrored to a target
- ``chorus_replication_lag_seconds`` (gauge) — target — age of the newest unmirrored change
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pymongo import monitoring

log = logging.getLogger(__name__)

WebLimit = Literal["message_rate", "connections"]
RejectionCause = Literal["signature", "size", "parse", "invalid", "rate_limit"]
REJECTION_CAUSES: tuple[RejectionCause, ...] = (
    "signature",
    "size",
    "parse",
    "invalid",
    "rate_limit",
)
DeliveryReason = Literal[
    "retryable", "permanent", "unreachable", "rate_limited", "adapter_error", "not_routable"
]
DELIVERY_REASONS: tuple[DeliveryReason, ...] = (
    "retryable",
    "permanent",
    "unreachable",
    "rate_limited",
    "adapter_error",
    "not_routable",
)
SocketKind = Literal["customer", "agent"]

# Storage calls are mostly sub-millisecond on loopback and tens of milliseconds across a
# replica set with majority writes; the buckets cover both.
_STORAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Handshake and monitoring commands say nothing about the hub's own storage latency.
_IGNORED_COMMANDS = frozenset({"hello", "ismaster", "isMaster", "saslStart", "saslContinue"})

Refresher = Callable[[], Awaitable[None]]


def rejection_cause(status: int) -> RejectionCause | None:
    """The rejection cause an HTTP error status stands for (None: not a rejection)."""
    if status in (401, 403):
        return "signature"
    if status == 413:
        return "size"
    if status in (400, 415):
        return "parse"
    if status == 422:
        return "invalid"
    if status == 429:
        return "rate_limit"
    return None


class HubMetrics:
    """Every Chorus metric, registered on this instance's own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._refreshers: list[Refresher] = []
        r = self.registry
        self.messages_received = Counter(
            "chorus_messages_received", "Inbound messages stored.", ["channel"], registry=r
        )
        self.messages_duplicate = Counter(
            "chorus_messages_duplicate",
            "Inbound messages already stored (platform retries, client resends).",
            ["channel"],
            registry=r,
        )
        self.messages_sent = Counter(
            "chorus_messages_sent", "Outbound messages delivered.", ["channel"], registry=r
        )
        self.delivery_failures = Counter(
            "chorus_delivery_failures",
            "Failed delivery attempts by reason.",
            ["channel", "reason"],
            registry=r,
        )
        self.outbound_failed = Counter(
            "chorus_outbound_failed",
            "Outbound messages marked failed: no attempts left, or not deliverable at all.",
            ["channel"],
            registry=r,
        )
        self.webhook_rejections = Counter(
            "chorus_webhook_rejections",
            "Requests and frames refused before anything was stored, by cause.",
            ["channel", "cause"],
            registry=r,
        )
        self.http_requests = Counter(
            "chorus_http_requests",
            "HTTP requests answered.",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "chorus_http_request_seconds", "HTTP request handling time.", ["route"], registry=r
        )
        self.websockets_open = Gauge(
            "chorus_websockets_open", "Open WebSockets.", ["kind"], registry=r
        )
        self.web_limited = Counter(
            "chorus_web_limited",
            "Web chat messages and connections refused by the volume limits.",
            ["limit"],
            registry=r,
        )
        self.slow_reader_drops = Counter(
            "chorus_websocket_slow_reader_drops",
            "WebSockets closed with 1013 because their reader fell a full send queue behind.",
            ["kind"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "chorus_outbox_pending", "Outbound messages waiting for delivery.", registry=r
        )
        self.outbox_inflight = Gauge(
            "chorus_outbox_inflight", "Outbound sends running now.", registry=r
        )
        self.fanout_tasks = Gauge(
            "chorus_fanout_tasks", "Inbox event listener tasks running now.", registry=r
        )
        self.storage_seconds = Histogram(
            "chorus_storage_command_seconds",
            "MongoDB command round-trip time.",
            ["command"],
            buckets=_STORAGE_BUCKETS,
            registry=r,
        )
        self.storage_failures = Counter(
            "chorus_storage_command_failures",
            "MongoDB commands that failed.",
            ["command"],
            registry=r,
        )
        self.bot_replies = Counter(
            "chorus_bot_replies", "Answers the bot sent.", ["channel"], registry=r
        )
        self.bot_contained = Counter(
            "chorus_bot_contained",
            "Conversations the bot resolved without an agent.",
            ["channel"],
            registry=r,
        )
        self.bot_handoffs = Counter(
            "chorus_bot_handoffs",
            "Conversations the bot handed to agents, by reason.",
            ["channel", "reason"],
            registry=r,
        )
        self.moderation_verdicts = Counter(
            "chorus_moderation_verdicts",
            "Moderation verdicts on public comments.",
            ["channel", "verdict"],
            registry=r,
        )
        self.archive_documents = Counter(
            "chorus_archive_documents", "Documents archived.", ["collection"], registry=r
        )
        self.archive_lag = Gauge(
            "chorus_archive_lag_seconds",
            "Age of the oldest document due for archiving.",
            registry=r,
        )
        self.backup_runs = Counter(
            "chorus_backup_runs", "Backup runs by outcome.", ["outcome"], registry=r
        )
        self.backup_last_success = Gauge(
            "chorus_backup_last_success_timestamp_seconds",
            "Unix time of the last successful backup.",
            registry=r,
        )
        self.backup_bytes = Gauge(
            "chorus_backup_bytes", "Size of the last successful backup.", registry=r
        )
        self.replication_events = Counter(
            "chorus_replication_events",
            "Changes mirrored to a replication target.",
            ["target"],
            registry=r,
        )
        self.channel_next_poll = Gauge(
            "chorus_channel_next_poll_timestamp_seconds",
            "When a polling channel asks its platform next (unix time; later when rate limited)",
            ["channel"],
            registry=r,
        )
        self.replication_lag = Gauge(
            "chorus_replication_lag_seconds",
            "Age of the newest change not yet mirrored to a target.",
            ["target"],
            registry=r,
        )
        self.storage_listener = StorageLatencyListener(self)

    # Helpers, so callers need not remember label names.

    def received(self, channel: str) -> None:
        self.messages_received.labels(channel=channel).inc()

    def duplicate(self, channel: str) -> None:
        self.messages_duplicate.labels(channel=channel).inc()

    def sent(self, channel: str) -> None:
        self.messages_sent.labels(channel=channel).inc()

    def delivery_failed(self, channel: str, reason: DeliveryReason) -> None:
        self.delivery_failures.labels(channel=channel, reason=reason).inc()

    def outbound_failed_for_good(self, channel: str) -> None:
        self.outbound_failed.labels(channel=channel).inc()

    def rejected(self, channel: str, cause: RejectionCause) -> None:
        self.webhook_rejections.labels(channel=channel, cause=cause).inc()

    def socket_opened(self, kind: SocketKind) -> None:
        self.websockets_open.labels(kind=kind).inc()

    def socket_closed(self, kind: SocketKind) -> None:
        self.websockets_open.labels(kind=kind).dec()

    def web_limited_by(self, limit: WebLimit) -> None:
        self.web_limited.labels(limit=limit).inc()

    def slow_reader_dropped(self, kind: SocketKind) -> None:
        self.slow_reader_drops.labels(kind=kind).inc()

    def add_refresher(self, refresher: Refresher) -> None:
        """Run ``refresher`` before each scrape (for gauges that need a database query)."""
        self._refreshers.append(refresher)

    async def render(self) -> bytes:
        """The Prometheus text exposition, after refreshing query-backed gauges."""
        for refresher in self._refreshers:
            try:
                result = refresher()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # a scrape must not fail because one gauge could not
                log.warning("metrics refresh failed", extra={"error": repr(exc)})
        return generate_latest(self.registry)


class StorageLatencyListener(monitoring.CommandListener):
    """Times every MongoDB command the hub's client runs, per command name.

    It also logs each command at DEBUG; the log context (``hub.logs``) tags the record, so
    the storage step of one message shows up under that message's id.
    """

    def __init__(self, metrics: HubMetrics) -> None:
        self.metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _IGNORED_COMMANDS or not log.isEnabledFor(logging.DEBUG):
            return
        collection = event.command.get(event.command_name)
        log.debug(
            "storage command",
            extra={
                "command": event.command_name,
                "collection": collection if isinstance(collection, str) else None,
            },
        )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name in _IGNORED_COMMANDS:
            return
        seconds = event.duration_micros / 1_000_000
        self.metrics.storage_seconds.labels(command=event.command_name).observe(seconds)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if event.command_name in _IGNORED_COMMANDS:
            return
        seconds = event.duration_micros / 1_000_000
        self.metrics.storage_seconds.labels(command=event.command_name).observe(seconds)
        self.metrics.storage_failures.labels(command=event.command_name).inc()
