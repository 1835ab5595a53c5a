"""Posts owed webhook deliveries, at least once, through the outbox's lease queue.

``WebhookSender`` is the outbox's sender (``hub.core.outbox.Outbox`` on its background loop:
wake, graceful stop, backoff on failure, exponential retry delays with jitter) over
``webhook_deliveries``: each pass leases due deliveries, posts them signed, records the
outcome, and waits until the next one is due. Timeouts, connection
errors, 5xx, 408, 425 and 429 are retried (a ``Retry-After`` is honoured up to
``max_delay_seconds``) until ``retry_for_seconds`` have passed since the delivery was
owed; then, or at once for any other answer, it is dead-lettered. An endpoint failing
without a success for ``pause_after_seconds`` is paused and flagged.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp

from hub.config.model import OutboxConfig, WebhooksConfig
from hub.core.outbox import BATCH, Outbox
from hub.domain import WebhookEndpoint, utcnow
from hub.runtime.logs import context_with
from hub.runtime.metrics import HubMetrics, WebhookResult
from hub.webhooks.egress import BlockedAddress, PublicOnlyResolver, check_address, literal_host
from hub.webhooks.signature import signed_headers
from storage.inbox import InboxStore
from storage.mongo import Document
from storage.webhooks import WebhookStore

log = logging.getLogger(__name__)

RETRY_STATUSES = {408, 425, 429}
# Posts under way to one endpoint at once; a pass holds at most BATCH in all.
PER_ENDPOINT = 8
USER_AGENT = "Chorus-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST came to."""

    result: WebhookResult
    reason: str
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        return self.result in ("timeout", "unreachable", "server_error", "rate_limited")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value) if len(value) < 9 else None
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, at.timestamp() - (time.time() if now is None else now))


def classify(status: int, retry_after: str | None) -> Attempt:
    if 200 <= status < 300:
        return Attempt("delivered", f"answered {status}")
    if status == 429:
        return Attempt("rate_limited", "answered 429", retry_after_seconds(retry_after))
    if status >= 500 or status in RETRY_STATUSES:
        return Attempt("server_error", f"answered {status}", retry_after_seconds(retry_after))
    # A redirect is not delivery and is never followed; any other answer is a refusal.
    return Attempt("refused", f"answered {status}")


class WebhookSender(Outbox):
    """The outbox loop over webhook deliveries; ``wake`` when an event was owed."""

    def __init__(
        self,
        store: WebhookStore,
        inbox: InboxStore,
        config: WebhooksConfig,
        metrics: HubMetrics | None = None,
    ) -> None:
        loop_config = OutboxConfig(
            base_delay_seconds=config.base_delay_seconds,
            max_delay_seconds=config.max_delay_seconds,
            lease_seconds=config.lease_seconds,
            poll_seconds=config.poll_seconds,
        )
        super().__init__(store.queue, inbox, loop_config, metrics)
        self.webhooks = store
        self.settings = config
        self.resolver = PublicOnlyResolver(config.allow_private_addresses)
        self._session: aiohttp.ClientSession | None = None
        # Turns events owed by inbox writes into deliveries (WebhookEvents.reconcile).
        self.reconcile: Callable[[], Awaitable[int]] | None = None

    async def open(self) -> None:
        """Open the HTTP client (its resolver refuses blocked addresses) and start posting."""
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=self.resolver),
            timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout_seconds),
        )
        self.start({})

    async def close(self, grace: float) -> None:
        await self.stop(grace)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _pass(self) -> float:
        await self.deliver_due()
        due = await self.store.next_due_at()
        if due is None:
            return self.config.poll_seconds
        seconds = (due - utcnow()).total_seconds()
        return min(max(seconds, 0.05), self.config.poll_seconds)

    async def deliver_due(self, batch: int = BATCH) -> int:
        """Claim what is due and start posting it; returns how many were claimed.

        Posts run on their own, at most ``PER_ENDPOINT`` at once to one endpoint: a slow or
        hanging endpoint holds its own deliveries back, never the other endpoints'.
        """
        if self.reconcile is not None and await self.reconcile():
            self.wake()  # more may be owed than one pass reads
        free = batch - len(self._inflight)
        if free <= 0:
            return 0
        full = {e for e, n in self._busy.items() if n >= PER_ENDPOINT}
        claimed = await self.webhooks.queue.claim_due_documents(
            self.config.lease_seconds, free, full
        )
        for doc in claimed:
            endpoint_id = doc["endpoint_id"]
            self._busy[endpoint_id] += 1
            task = asyncio.create_task(
                self._deliver_one(doc), context=context_with(delivery_id=doc["_id"])
            )
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            task.add_done_callback(functools.partial(self._endpoint_idle, endpoint_id))
        return len(claimed)

    def _endpoint_idle(self, endpoint_id: str, _: object = None) -> None:
        was_full = self._busy[endpoint_id] >= PER_ENDPOINT
        self._busy[endpoint_id] -= 1
        if self._busy[endpoint_id] <= 0:
            del self._busy[endpoint_id]
        if was_full:  # its due deliveries were left alone: look for them again
            self.wake()

    async def _deliver_one(self, doc: Document) -> None:
        endpoint = await self.webhooks.get(doc["endpoint_id"])
        if endpoint is None or not endpoint.active:
            why = "endpoint deleted" if endpoint is None else "endpoint paused"
            await self._dead_letter(doc, Attempt("refused", why))
            return
        attempt = await self.post(endpoint, doc)
        self.metrics.webhook_delivered(attempt.result)
        if attempt.result == "delivered":
            await self.outcomes.submit(self.store.sent(doc["_id"], None))
            await self.webhooks.note_success(endpoint.id)
            return
        await self._note_failing(endpoint)
        now = utcnow()
        window_ends = doc["retry_from"] + timedelta(seconds=self.settings.retry_for_seconds)
        if not attempt.retryable or now >= window_ends:
            await self._dead_letter(doc, attempt)
            return
        tries = doc["delivery"].get("attempts", 1)
        asked = attempt.retry_after
        delay = min(asked, self.config.max_delay_seconds) if asked else self.backoff(tries)
        at = now + timedelta(seconds=delay)
        await self.outcomes.submit(self.store.retry(doc["_id"], at, attempt.reason))
        log.info("webhook retry scheduled", extra={"delay": delay, "reason": attempt.reason})
        self.wake()

    async def post(self, endpoint: WebhookEndpoint, doc: Document) -> Attempt:
        """One signed POST of the stored body; never follows a redirect."""
        body = doc["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Chorus-Event": doc["event_type"],
            "X-Chorus-Event-Id": doc["event_id"],
            **signed_headers(endpoint.secret, body),
        }
        assert self._session is not None, "open() starts the client"
        try:
            host = literal_host(endpoint.url)
            if host is not None:  # aiohttp connects to an IP literal without resolving it
                check_address(host, self.settings.allow_private_addresses)
            async with self._session.post(
                endpoint.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                return classify(response.status, response.headers.get("Retry-After"))
        except BlockedAddress:
            return Attempt("blocked", "destination is not a public address")
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, BlockedAddress):
                return Attempt("blocked", "destination is not a public address")
            return Attempt("unreachable", f"unreachable ({type(exc).__name__})")
        except TimeoutError:
            return Attempt("timeout", "timed out")
        except aiohttp.ClientError as exc:
            return Attempt("unreachable", f"unreachable ({type(exc).__name__})")

    async def _note_failing(self, endpoint: WebhookEndpoint) -> None:
        since = await self.webhooks.note_failure(endpoint.id, utcnow())
        if since is None:
            return
        if utcnow() - _aware(since) >= timedelta(seconds=self.settings.pause_after_seconds):
            await self.webhooks.pause_failing(endpoint.id)
            log.warning("webhook endpoint paused after failing", extra={"endpoint_id": endpoint.id})

    async def _dead_letter(self, doc: Document, attempt: Attempt) -> None:
        await self.outcomes.submit(self.store.failed(doc["_id"], attempt.reason))
        self.metrics.webhook_dead_lettered()
        log.warning(
            "webhook dead-lettered", extra={"delivery_id": doc["_id"], "reason": attempt.reason}
        )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
