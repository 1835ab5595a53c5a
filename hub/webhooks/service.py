"""The webhook parts one app shares: the store, the sender and the event builder."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiohttp import web

from hub.config.model import WebhooksConfig
from hub.core.hub import Hub
from hub.domain import utcnow
from hub.runtime.metrics import HubMetrics
from hub.webhooks.events import WebhookEvents
from hub.webhooks.sender import WebhookSender
from storage.mongo import MongoStore
from storage.webhook_interest import WebhookInterest
from storage.webhook_journal import WebhookJournal
from storage.webhooks import WebhookStore


@dataclass(frozen=True, slots=True)
class Webhooks:
    endpoints: WebhookStore
    sender: WebhookSender
    events: WebhookEvents


WEBHOOKS = web.AppKey("webhooks", Webhooks)


def build(config: WebhooksConfig, hub: Hub, mongo: MongoStore, metrics: HubMetrics) -> Webhooks:
    """The parts, with the event builder listening to the hub's events."""
    store = WebhookStore(mongo)
    # Messages owe ``message.created`` only while some endpoint wants it.
    hub.store.sequence.interest = WebhookInterest(mongo)
    sender = WebhookSender(store, hub.store, config, metrics)
    events = WebhookEvents(store, WebhookJournal(mongo), sender.wake)
    sender.reconcile = events.reconcile
    hub.subscribe(events.on_inbox_event)

    async def refresh() -> None:
        metrics.webhook_dead_letters.set(await store.dead_letter_count())
        oldest = await store.oldest_pending_at()
        lag = 0.0 if oldest is None else (utcnow() - oldest).total_seconds()
        metrics.webhook_lag.set(max(0.0, lag))

    metrics.add_refresher(refresh)
    return Webhooks(store, sender, events)


def sender_context(
    webhooks: Webhooks, grace: float
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Ties the sender's client and loop to the app's lifetime."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        await webhooks.sender.open()
        yield
        await webhooks.sender.close(grace)

    return run
