"""The hub's Prometheus metrics: one ``HubMetrics`` per app, on its own registry.

Every metric Chorus exports is declared here, with its label names, so a dashboard can be
built from this file alone and features that land later only have to call a helper.
Each app gets a dedicated ``CollectorRegistry`` (never the process-global default), so
several hubs in one process (the test suite) do not collide.

Label values are bounded: channels come from the channel registry (``adapters.registry``),
causes and reasons from the small vocabularies below, commands from the MongoDB command names.

Metric (type) — labels — meaning. ``tests/hub/ops/test_metrics.py`` parses this list and fails
when a metric here (or named in README.md or docs/) has no sample after a scripted session:

- ``chorus_messages_received_total`` (counter) — channel — inbound messages stored
- ``chorus_messages_duplicate_total`` (counter) — channel — inbound retries dropped by dedup
- ``chorus_inbound_skipped_total`` (counter) — channel, reason — platform events acknowledged
  and not stored (a group chat, a sticker, an update kind the channel does not handle);
  each channel names its reasons from a fixed list (Telegram: ``adapters/telegram/normalize.py``)
- ``chorus_messages_sent_total`` (counter) — channel — outbound messages delivered
- ``chorus_delivery_failures_total`` (counter) — channel, reason — failed delivery attempts;
  reason ∈ ``DELIVERY_REASONS``
- ``chorus_outbound_failed_total`` (counter) — channel — outbound messages marked failed
- ``chorus_webhook_rejections_total`` (counter) — channel, cause — refused platform or
  client input; cause ∈ ``REJECTION_CAUSES``; channel is ``api`` for the REST API
- ``chorus_http_requests_total`` (counter) — route, method, status
- ``chorus_http_request_seconds`` (histogram) — route
- ``chorus_websockets_open`` (gauge) — kind ∈ customer, agent
- ``chorus_websocket_slow_reader_drops_total`` (counter) — kind — sockets closed with 1013
- ``chorus_web_limited_total`` (counter) — limit ∈ ``WEB_LIMITS`` — web chat messages
  refused over a rate (not stored) and connections refused over an address's limit
- ``chorus_outbox_pending`` (gauge) — outbound messages waiting (refreshed at scrape)
- ``chorus_outbox_inflight`` (gauge) — sends running now
- ``chorus_fanout_tasks`` (gauge) — event listener tasks running now
- ``chorus_channel_next_poll_timestamp_seconds`` (gauge) — channel — polling channels only
- ``chorus_storage_command_seconds`` (histogram) — command — MongoDB round trips
- ``chorus_storage_command_failures_total`` (counter) — command
- ``chorus_bot_replies_total`` (counter) — channel — messages the bot sent
- ``chorus_bot_contained_total`` (counter) — channel — conversations resolved straight from
  the bot stage (no human held them)
- ``chorus_bot_handoffs_total`` (counter) — channel, reason — conversations passed from the
  bot to agents (``bot_disabled`` when the bot is off, ``claimed`` when an agent took one)
- ``chorus_moderation_verdicts_total`` (counter) — channel, verdict — moderated comments;
  channel is the social channel, or the comment's source (``web``, ``api``, …)
- ``chorus_archive_documents_total`` (counter) — collection ∈ conversations, messages
- ``chorus_archive_lag_seconds`` (gauge) — how long the oldest conversation due for
  archiving has waited past ``archive.after_days`` (0 when none is due)
- ``chorus_backup_runs_total`` (counter) — outcome ∈ success, failure
- ``chorus_backup_last_success_timestamp_seconds`` (gauge) — end of the last good backup
  (0 before the first one, so an age alert fires)
- ``chorus_backup_bytes`` (gauge) — size of the last successful backup
- ``chorus_webhook_deliveries_total`` (counter) — result ∈ ``WEBHOOK_RESULTS`` — outbound
  webhook POSTs (and deliveries refused before one: ``blocked``)
- ``chorus_webhook_dead_letters_total`` (counter) — deliveries dead-lettered
- ``chorus_webhook_dead_letters_stored`` (gauge) — dead letters kept now (refreshed at scrape)
- ``chorus_webhook_lag_seconds`` (gauge) — age of the oldest delivery still owed (0 when
  none is; refreshed at scrape)

Backups and archive runs may run in another process (``chorus backup``, ``chorus archive
run``): they record each run in the database (``backup_runs``, ``archive_runs``) and these
five are read from there at scrape time, so any hub instance reports them.

Served by ``chorus replicate --metrics-port PORT`` (the replicator is its own process),
from ``ReplicationMetrics``:

- ``chorus_replication_events_total`` (counter) — target — changes applied to a replica
- ``chorus_replication_lag_seconds`` (gauge) — target — age of the last applied change
  (0 while the stream is idle)
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

WebLimit = Literal["message_rate", "connections", "signal_rate"]
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
WebhookResult = Literal[
    "delivered", "timeout", "unreachable", "server_error", "rate_limited", "refused", "blocked"
]
WEBHOOK_RESULTS: tuple[WebhookResult, ...] = (
    "delivered",
    "timeout",
    "unreachable",
    "server_error",
    "rate_limited",
    "refused",
    "blocked",
)

# Storage calls are mostly sub-millisecond on loopback and tens of milliseconds across a
# replica set with majority writes; the buckets cover both.
_STORAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

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


class StoredCounter(Collector):
    """A counter whose value is kept elsewhere (the database) and set before each scrape.

    ``prometheus_client.Counter`` only increments in the process that counts; runs made by
    another process are counted where they are recorded and copied here by a refresher.
    """

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: tuple[str, ...],
        registry: CollectorRegistry,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.values: dict[tuple[str, ...], float] = {}
        registry.register(self)

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in sorted(self.values.items()):
            family.add_metric(list(labels), value)
        yield family


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
        self.inbound_skipped = Counter(
            "chorus_inbound_skipped",
            "Platform events acknowledged but not stored, by reason.",
            ["channel", "reason"],
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
        self.archive_documents = StoredCounter(
            "chorus_archive_documents", "Documents archived.", ("collection",), r
        )
        self.archive_lag = Gauge(
            "chorus_archive_lag_seconds",
            "Age of the oldest document due for archiving.",
            registry=r,
        )
        self.backup_runs = StoredCounter(
            "chorus_backup_runs", "Backup runs by outcome.", ("outcome",), r
        )
        self.backup_last_success = Gauge(
            "chorus_backup_last_success_timestamp_seconds",
            "Unix time of the last successful backup.",
            registry=r,
        )
        self.backup_bytes = Gauge(
            "chorus_backup_bytes", "Size of the last successful backup.", registry=r
        )
        self.webhook_deliveries = Counter(
            "chorus_webhook_deliveries",
            "Outbound webhook delivery attempts by result.",
            ["result"],
            registry=r,
        )
        self.webhook_dead_letters_total = Counter(
            "chorus_webhook_dead_letters", "Webhook deliveries dead-lettered.", registry=r
        )
        self.webhook_dead_letters = Gauge(
            "chorus_webhook_dead_letters_stored", "Webhook dead letters stored now.", registry=r
        )
        self.webhook_lag = Gauge(
            "chorus_webhook_lag_seconds",
            "Age of the oldest webhook delivery still owed.",
            registry=r,
        )
        self.channel_next_poll = Gauge(
            "chorus_channel_next_poll_timestamp_seconds",
            "When a polling channel asks its platform next (unix time; later when rate limited)",
            ["channel"],
            registry=r,
        )
        self.storage_latency = StorageLatency(self)

    # Helpers, so callers need not remember label names.

    def received(self, channel: str) -> None:
        self.messages_received.labels(channel=channel).inc()

    def duplicate(self, channel: str) -> None:
        self.messages_duplicate.labels(channel=channel).inc()

    def skipped(self, channel: str, reason: str) -> None:
        self.inbound_skipped.labels(channel=channel, reason=reason).inc()

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

    def bot_replied(self, channel: str) -> None:
        self.bot_replies.labels(channel=channel).inc()

    def bot_handed_off(self, channel: str, reason: str) -> None:
        self.bot_handoffs.labels(channel=channel, reason=reason).inc()

    def bot_resolved(self, channel: str) -> None:
        self.bot_contained.labels(channel=channel).inc()

    def webhook_delivered(self, result: WebhookResult) -> None:
        self.webhook_deliveries.labels(result=result).inc()

    def webhook_dead_lettered(self) -> None:
        self.webhook_dead_letters_total.inc()

    def moderated(self, channel: str, verdict: str) -> None:
        self.moderation_verdicts.labels(channel=channel, verdict=verdict).inc()

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


class ReplicationMetrics:
    """What ``chorus replicate`` exports, on its own registry (it runs in its own process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "chorus_replication_events",
            "Changes applied to a replica.",
            ["target"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "chorus_replication_lag_seconds",
            "Age of the last change applied to a replica (0 while the stream is idle).",
            ["target"],
            registry=self.registry,
        )

    def record_applied(self, target: str, count: int) -> None:
        self.events.labels(target=target).inc(count)

    def record_lag(self, target: str, seconds: float) -> None:
        self.lag.labels(target=target).set(seconds)

    async def render(self) -> bytes:
        return generate_latest(self.registry)


class StorageLatency:
    """Times every MongoDB command the hub's client runs, per command name.

    It also logs each command at DEBUG; the log context (``hub.runtime.logs``) tags the record, so
    the storage step of one message shows up under that message's id.
    """

    def __init__(self, metrics: HubMetrics) -> None:
        self.metrics = metrics

    def command_started(self, command: str, collection: str | None) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("storage command", extra={"command": command, "collection": collection})

    def command_finished(self, command: str, seconds: float, *, failed: bool) -> None:
        self.metrics.storage_seconds.labels(command=command).observe(seconds)
        if failed:
            self.metrics.storage_failures.labels(command=command).inc()
