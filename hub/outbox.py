"""Delivers pending outbound messages through their channel's adapter, with retries.

Sends survive restarts because the intent is the stored ``pending`` message itself: a
fresh sender simply finds it due. Backoff is exponential with jitter; an adapter's
``retry_after`` wins when the platform gave one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from datetime import timedelta

from hub.channels import ChannelAdapter
from hub.config import OutboxConfig
from hub.domain import Channel, Conversation, DeliveryResult, Message, OutboundMessage, utcnow
from hub.errors import StorageError
from hub.logs import context_with
from hub.metrics import DeliveryReason, HubMetrics
from storage.inbox import InboxStore
from storage.outbox import OutboxStore

log = logging.getLogger(__name__)


def outbound_for(message: Message, conversation: Conversation, attempt: int = 1) -> OutboundMessage:
    """What an adapter is asked to deliver for a stored outbound message."""
    return OutboundMessage(
        message_id=message.id,
        channel=message.channel,
        text=message.text,
        attachments=message.attachments,
        recipient_id=conversation.recipient_id,
        route=conversation.route,
        author=message.author,
        attempt=attempt,
        conversation_id=message.conversation_id,
        seq=message.seq,
    )


class Outbox:
    """The sender loop; ``wake`` makes it look for due messages at once."""

    def __init__(
        self,
        store: OutboxStore,
        inbox: InboxStore,
        config: OutboxConfig,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.metrics = metrics or HubMetrics()
        self._stopping = False
        self.store = store
        self.inbox = inbox
        self.config = config
        self.adapters: Mapping[Channel, ChannelAdapter] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    @property
    def inflight_count(self) -> int:
        return len(self._inflight)

    def wake(self) -> None:
        self._wake.set()

    def start(self, adapters: Mapping[Channel, ChannelAdapter]) -> None:
        self.adapters = adapters
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox")

    async def stop(self, grace: float = 10.0) -> None:
        """Let the pass under way finish its sends (up to ``grace``), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=grace)
            if not done:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=grace)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.deliver_due()
                delay = await self._idle_delay()
            except StorageError as exc:
                log.warning("outbox cannot reach the database", extra={"error": str(exc)})
                delay = self.config.poll_seconds
            except Exception:
                # Whatever one pass hit, the outbox keeps running: it is every channel's.
                log.exception("outbox pass failed")
                delay = self.config.poll_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _idle_delay(self) -> float:
        due = await self.store.next_due_at()
        if due is None:
            return self.config.poll_seconds
        seconds = (due - utcnow()).total_seconds()
        return min(max(seconds, 0.05), self.config.poll_seconds)

    async def deliver_due(self, batch: int = 32) -> int:
        """Claim and send what is due now; returns how many were claimed."""
        claimed = await self.store.claim_due(self.config.lease_seconds, batch)
        tasks = [
            asyncio.create_task(self._deliver(message), context=context_with(message_id=message.id))
            for message in claimed
        ]
        for task in tasks:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        if tasks:
            await asyncio.gather(*tasks)
        return len(claimed)

    async def _deliver(self, message: Message) -> None:
        attempt = message.delivery.attempts if message.delivery else 1
        adapter = self.adapters.get(message.channel)
        if adapter is None:
            await self._give_up(message, f"channel {message.channel} is not enabled")
            return
        conversation = await self.inbox.get_conversation(message.conversation_id)
        if conversation is None:
            await self._give_up(message, "conversation not found")
            return
        outbound = outbound_for(message, conversation, attempt)
        try:
            result = await adapter.send(outbound)
        except Exception as exc:  # an adapter bug must not kill the sender loop
            log.exception("adapter send raised", extra={"message_id": message.id})
            result = DeliveryResult.failed(f"adapter error: {type(exc).__name__}", retryable=True)
        await self._record(message, conversation.recipient_id, attempt, result)

    async def _record(
        self, message: Message, recipient_id: str, attempt: int, result: DeliveryResult
    ) -> None:
        if result.ok:
            await self.store.mark_sent(message.id, result.platform_id)
            self.metrics.sent(message.channel)
            log.info("outbound sent", extra={"message_id": message.id, "channel": message.channel})
            return
        reason = result.reason or "unknown error"
        self.metrics.delivery_failed(message.channel, failure_reason(result))
        if result.unreachable:
            await self.inbox.set_identity_reachable(
                message.contact_id, message.channel, recipient_id, False
            )
        if result.retryable and attempt < self.config.max_attempts:
            # A platform's (or a webhook receiver's) Retry-After is honoured up to the
            # longest backoff: a huge one must neither overflow the clock nor park a reply.
            asked = result.retry_after_seconds
            delay = min(asked, self.config.max_delay_seconds) if asked else self.backoff(attempt)
            await self.store.mark_retry(message.id, utcnow() + timedelta(seconds=delay), reason)
            log.info(
                "outbound retry scheduled",
                extra={"message_id": message.id, "delay": delay, "reason": reason},
            )
            self.wake()
            return
        await self._fail(message, reason)

    async def _give_up(self, message: Message, reason: str) -> None:
        """Not deliverable at all: no attempt is made."""
        self.metrics.delivery_failed(message.channel, "not_routable")
        await self._fail(message, reason)

    async def _fail(self, message: Message, reason: str) -> None:
        await self.store.mark_failed(message.id, reason)
        self.metrics.outbound_failed_for_good(message.channel)
        log.error("outbound failed", extra={"message_id": message.id, "reason": reason})

    def backoff(self, attempt: int) -> float:
        ceiling = min(
            self.config.max_delay_seconds, self.config.base_delay_seconds * 2 ** (attempt - 1)
        )
        return float(ceiling) * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security


def failure_reason(result: DeliveryResult) -> DeliveryReason:
    """The bounded metric label for a failed delivery (the free-text reason is logged)."""
    if result.unreachable:
        return "unreachable"
    if result.retry_after_seconds is not None:
        return "rate_limited"
    if (result.reason or "").startswith("adapter error"):
        return "adapter_error"
    return "retryable" if result.retryable else "permanent"
