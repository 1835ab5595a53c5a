"""Delivers pending outbound messages through their channel's adapter, with retries.

Sends survive restarts because the intent is the stored ``pending`` message itself: a
fresh sender simply finds it due. Claims and outcomes are batched, and channels are
independent: a slow one holds up only its own messages. Backoff is exponential with
jitter; an adapter's ``retry_after`` wins when the platform gave one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections import Counter, OrderedDict
from collections.abc import Mapping
from datetime import timedelta

from hub.channels.port import ChannelAdapter
from hub.config.model import OutboxConfig
from hub.domain import Channel, Conversation, DeliveryResult, Message, OutboundMessage, utcnow
from hub.errors import StorageError
from hub.runtime.background import BackgroundLoop
from hub.runtime.logs import context_with
from hub.runtime.metrics import DeliveryReason, HubMetrics
from storage.group_commit import GroupCommit
from storage.inbox import InboxStore
from storage.outbox import OutboxStore, Outcome

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


BATCH = 32
# Conversations the reply path handed over, kept until their message is claimed.
MAX_HINTS = 10_000


class Outbox:
    """The sender loop; ``wake`` makes it look for due messages at once.

    Each pass claims a batch in two commands and starts one task per message; the loop
    does not wait for them, so one slow channel (a webhook that takes its time) delays
    no other. A channel holds at most ``BATCH`` messages in flight. Outcomes are written
    in shared bulk updates (group commit).
    """

    def __init__(
        self,
        store: OutboxStore,
        inbox: InboxStore,
        config: OutboxConfig,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.metrics = metrics or HubMetrics()
        self.store = store
        self.inbox = inbox
        self.config = config
        self.adapters: Mapping[Channel, ChannelAdapter] = {}
        # Whatever one pass hits, the loop keeps running: it is every channel's sender.
        self._loop = BackgroundLoop(
            "outbox",
            self._pass,
            interval=config.poll_seconds,
            max_retry=max(config.poll_seconds, 30.0),
            expected=(StorageError,),
            logger=log,
        )
        self._inflight: set[asyncio.Task[None]] = set()
        self._busy: Counter[str] = Counter()
        # Replies stored by this process: claimed by id, with the conversation they carry,
        # instead of being looked for (and their conversation read) again.
        self._offered: OrderedDict[str, Conversation] = OrderedDict()
        self._scan_at = 0.0  # when (monotonic) the next look for due messages is owed
        self.outcomes: GroupCommit[Outcome, None] = GroupCommit(
            store.complete, max_batch=256, name="outbox-outcomes"
        )

    @property
    def inflight_count(self) -> int:
        return len(self._inflight)

    def wake(self) -> None:
        self._scan_at = 0.0
        self._loop.wake()

    def offer(self, message: Message, conversation: Conversation) -> None:
        """A reply was just stored: claim it on the next pass, knowing its conversation."""
        self._offered[message.id] = conversation
        while len(self._offered) > MAX_HINTS:
            self._offered.popitem(last=False)
        self._loop.wake()

    def start(self, adapters: Mapping[Channel, ChannelAdapter]) -> None:
        self.adapters = adapters
        self._scan_at = 0.0
        self._loop.start()

    async def stop(self, grace: float = 10.0) -> None:
        """Let the sends under way finish (up to ``grace``), then stop."""
        await self._loop.stop(grace)
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=grace)
        await self.outcomes.close()

    async def _pass(self) -> float:
        await self.deliver_due()
        if self._claimable_offers():
            return 0.0
        return max(0.0, self._scan_at - time.monotonic())

    def _scan_in(self, seconds: float) -> None:
        self._scan_at = min(self._scan_at, time.monotonic() + max(seconds, 0.0))

    async def deliver_due(self, batch: int = BATCH) -> int:
        """Claim what is due now and start sending it; returns how many were claimed.

        Offered replies are claimed by id; the due order is read when a poll, a retry or
        a wake asks for it. Sends run on their own: this returns without waiting for them.
        """
        full = {channel for channel, n in self._busy.items() if n >= batch}
        claimed: list[Message] = []
        hints: dict[str, Conversation] = {}
        offered = [mid for mid, c in self._offered.items() if c.channel not in full][:batch]
        for message_id in offered:
            hints[message_id] = self._offered.pop(message_id)
        if offered:
            claimed += await self.store.claim_ids(offered, self.config.lease_seconds)
        if time.monotonic() >= self._scan_at:
            self._scan_at = time.monotonic() + self.config.poll_seconds
            found = await self.store.claim_batch(self.config.lease_seconds, batch, full)
            claimed += found.messages
            if found.next_due_at is not None:
                self._scan_in((found.next_due_at - utcnow()).total_seconds())
        if not claimed:
            return 0
        conversations = await self._conversations(claimed, hints)
        for message in claimed:
            self._busy[message.channel] += 1
            task = asyncio.create_task(
                self._deliver(message, conversations.get(message.conversation_id)),
                context=context_with(message_id=message.id),
            )
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            task.add_done_callback(functools.partial(self._idle, message.channel, batch))
        return len(claimed)

    def _idle(self, channel: str, batch: int, _: object = None) -> None:
        was_full = self._busy[channel] >= batch
        self._busy[channel] -= 1
        if self._busy[channel] <= 0:
            del self._busy[channel]
        if was_full:  # its due messages were left alone: look for them again
            self.wake()

    def _claimable_offers(self, batch: int = BATCH) -> bool:
        full = {channel for channel, n in self._busy.items() if n >= batch}
        return any(c.channel not in full for c in self._offered.values())

    async def _conversations(
        self, messages: list[Message], hints: Mapping[str, Conversation]
    ) -> dict[str, Conversation]:
        """The claimed messages' conversations: handed over, or read in one query."""
        for message in messages:  # a poll may claim a reply just before it is offered
            if message.id not in hints and message.id in self._offered:
                hints = {**hints, message.id: self._offered.pop(message.id)}
        known = {hints[m.id].id: hints[m.id] for m in messages if m.id in hints}
        missing = {m.conversation_id for m in messages} - set(known)
        if missing:
            known.update(await self.inbox.conversations_by_id(sorted(missing)))
        return known

    async def _deliver(self, message: Message, conversation: Conversation | None) -> None:
        attempt = message.delivery.attempts if message.delivery else 1
        adapter = self.adapters.get(message.channel)
        if adapter is None:
            await self._give_up(message, f"channel {message.channel} is not enabled")
            return
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
            await self.outcomes.submit(self.store.sent(message.id, result.platform_id))
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
            at = utcnow() + timedelta(seconds=delay)
            await self.outcomes.submit(self.store.retry(message.id, at, reason))
            log.info(
                "outbound retry scheduled",
                extra={"message_id": message.id, "delay": delay, "reason": reason},
            )
            self._scan_in(delay)
            self._loop.wake()
            return
        await self._fail(message, reason)

    async def _give_up(self, message: Message, reason: str) -> None:
        """Not deliverable at all: no attempt is made."""
        self.metrics.delivery_failed(message.channel, "not_routable")
        await self._fail(message, reason)

    async def _fail(self, message: Message, reason: str) -> None:
        await self.outcomes.submit(self.store.failed(message.id, reason))
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
