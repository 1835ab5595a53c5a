"""Wires comment moderation into the app: service, public routes, API routes, cleanup."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from hub.api import comments, moderation, rule_versions
from hub.api.routes import API_ROUTES
from hub.comments.classifier import WebhookClassifier
from hub.comments.rules import RulesInForce
from hub.comments.service import CommentService
from hub.http.rate_limit import AddressBuckets
from hub.state import CONFIG, HUB, MONGO
from storage.comments import CommentStore


def setup(app: web.Application) -> None:
    """Comment moderation, when ``moderation.enabled``."""
    api, config, hub = app[API_ROUTES], app[CONFIG].moderation, app[HUB]
    if not config.enabled:
        return
    store = CommentStore(app[MONGO])
    classifier = WebhookClassifier(config.classifier) if config.classifier.url else None
    rules = RulesInForce(store, config.rules, config.rules_refresh_seconds)
    service = CommentService(store, rules, classifier, hub.metrics)
    app[comments.COMMENTS] = service
    rate = config.public_rate
    app[comments.BUCKETS] = AddressBuckets(
        rate.capacity, rate.refill_per_second, rate.max_addresses
    )
    hub.comment_sink = service
    app.router.add_routes(comments.public_routes())
    comments.register(api)
    moderation.register(api)
    rule_versions.register(api)

    async def close_classifier(app: web.Application) -> AsyncIterator[None]:
        yield
        if classifier is not None:
            await classifier.close()

    app.cleanup_ctx.append(close_classifier)
