"""The app factory: builds the object graph from config and ties lifetimes to the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from pymongo.errors import PyMongoError

from hub.api import inbox as inbox_api
from hub.api.routes import ApiRoutes
from hub.auth import TokenService
from hub.channels import ChannelAdapter
from hub.config import ChorusConfig
from hub.core import Hub
from hub.domain import Channel
from hub.events import EventBus
from hub.http import error_middleware
from hub.metrics import HubMetrics
from hub.ops import install_ops
from hub.outbox import Outbox
from hub.state import ADAPTERS, CONFIG, HUB, MONGO, TOKENS
from storage.agents import AgentStore
from storage.channel_state import ChannelStateStore
from storage.embedded import EmbeddedMongo
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client
from storage.outbox import OutboxStore

log = logging.getLogger(__name__)


def build_adapters(config: ChorusConfig, hub: Hub, tokens: TokenService) -> list[ChannelAdapter]:
    """The enabled channels. Adapters are imported here only, so the core stays SDK-free."""
    adapters: list[ChannelAdapter] = []
    if config.web.enabled:
        from adapters.web import WebChatAdapter

        adapters.append(WebChatAdapter(config.web, hub, tokens))
    return adapters


def create_app(config: ChorusConfig) -> web.Application:
    app = web.Application(
        client_max_size=config.http.max_body_bytes, middlewares=[error_middleware]
    )
    embedded: EmbeddedMongo | None = None
    uri = config.mongo.uri
    if not uri:
        embedded = EmbeddedMongo(config.mongo.embedded.data_dir, config.mongo.embedded.port)
        uri = embedded.uri
    metrics = HubMetrics()
    mongo = MongoStore(
        make_client(
            uri,
            server_selection_timeout_ms=config.mongo.server_selection_timeout_ms,
            event_listeners=[metrics.storage_listener],
        ),
        config.mongo.database,
        config.mongo.write_concern,
    )
    tokens = TokenService(config.auth)
    inbox = InboxStore(mongo)
    outbox = Outbox(OutboxStore(mongo), inbox, config.outbox, metrics)
    hub = Hub(inbox, EventBus(), outbox, AgentStore(mongo), ChannelStateStore(mongo), metrics)
    adapters = build_adapters(config, hub, tokens)

    app[CONFIG] = config
    app[MONGO] = mongo
    app[TOKENS] = tokens
    app[HUB] = hub
    app[ADAPTERS] = {adapter.channel: adapter for adapter in adapters}

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    for adapter in adapters:
        app.router.add_routes(adapter.routes())
    api = ApiRoutes()
    inbox_api.register(api)
    api.install(app)

    app.cleanup_ctx.append(_database_context(embedded, config))
    app.cleanup_ctx.append(_runtime_context)
    install_ops(app, metrics)
    return app


def _database_context(embedded: EmbeddedMongo | None, config: ChorusConfig) -> Any:
    async def database(app: web.Application) -> AsyncIterator[None]:
        if embedded is not None:
            await embedded.astart(config.mongo.embedded.start_timeout_seconds)
        mongo = app[MONGO]
        try:
            await mongo.ensure_indexes()
        except PyMongoError as exc:
            await mongo.close()
            if embedded is not None:
                await embedded.astop()
            raise RuntimeError(f"cannot prepare the database: {exc}") from exc
        yield
        await mongo.close()
        if embedded is not None:
            await embedded.astop()

    return database


async def _runtime_context(app: web.Application) -> AsyncIterator[None]:
    hub = app[HUB]
    adapters: dict[Channel, ChannelAdapter] = app[ADAPTERS]
    for adapter in adapters.values():
        await adapter.start()
    hub.outbox.start(adapters)
    yield
    grace = app[CONFIG].http.shutdown_grace_seconds
    for adapter in adapters.values():
        await adapter.stop()
    await hub.outbox.stop(grace)
    await hub.events.drain(grace)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    mongo = request.app[MONGO]
    try:
        ready = await asyncio.wait_for(mongo.ping(), timeout=2.0)
    except TimeoutError:
        ready = False
    checks = {"mongo": "ok" if ready else "unreachable"}
    return web.json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status=200 if ready else 503,
    )
