"""The app factory: builds the object graph from config and ties lifetimes to the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol, cast

from aiohttp import web
from aiohttp.typedefs import Middleware

from hub.access.tokens import TokenService
from hub.api import admin as admin_api
from hub.api import agent_admin as agent_admin_api
from hub.api import agents as agents_api
from hub.api import api_channels as api_channels_api
from hub.api import auth as auth_api
from hub.api import comment_setup
from hub.api import config_view as config_api
from hub.api import contact_panel as contact_panel_api
from hub.api import desk as desk_api
from hub.api import inbox as inbox_api
from hub.api import insights as insights_api
from hub.api import kb as kb_api
from hub.api import media as media_api
from hub.api import openapi as openapi_api
from hub.api import presence as presence_api
from hub.api import privacy as privacy_api
from hub.api import reports as reports_api
from hub.api import sync as sync_api
from hub.api import webhooks as webhooks_api
from hub.api.routes import API_ROUTES, ApiRoutes
from hub.bot import service as bot_service
from hub.channels.port import (
    Capability,
    ChannelAdapter,
    ChannelServices,
    ChannelSet,
    ServesApi,
    build_channels,
    channel_status,
)
from hub.config.model import ChorusConfig, jwt_secret
from hub.core.hub import Hub
from hub.core.media import MEDIA, MediaService, open_objects
from hub.core.outbox import Outbox
from hub.domain import Channel
from hub.errors import StorageError
from hub.http.json_api import error_middleware
from hub.ops import archive_schedule
from hub.ops import wiring as ops
from hub.ops.database import SERVE, start_recorded, stop_recorded
from hub.privacy import retention
from hub.runtime.events import EventBus
from hub.runtime.metrics import HubMetrics
from hub.state import (
    ADAPTERS,
    BOT_STORE,
    CHANGE_FEED,
    CHANNELS,
    CONFIG,
    HUB,
    LIVE,
    MONGO,
    TOKENS,
)
from hub.sync import fanout as sync_fanout
from hub.sync import inbox_relay, presence_relay
from hub.web import pages as inbox_web
from hub.web.live import AgentFeed
from hub.web.security import security_middleware
from storage.agents import AgentStore
from storage.api_channels import ApiChannelStore
from storage.bot import BotStore
from storage.change_feed import ChangeFeed
from storage.channel_state import ChannelStateStore
from storage.embedded import EmbeddedMongo
from storage.inbox import InboxStore
from storage.media import MediaStore
from storage.mongo import MongoStore, make_client
from storage.monitoring import CommandTimer
from storage.outbox import OutboxStore
from storage.sessions import SessionStore

log = logging.getLogger(__name__)

# The embedded database this app runs, if any: ``chorus serve`` stops it after a failed
# start, since aiohttp does not run the app's cleanup when its startup fails.
EMBEDDED_DB = web.AppKey("embedded_db", EmbeddedMongo)


class Feature(Protocol):
    """A feature module: ``setup`` adds its routes, state and lifetimes to the app."""

    def setup(self, app: web.Application) -> None: ...


def build_adapters(
    config: ChorusConfig, hub: Hub, tokens: TokenService, mongo: MongoStore
) -> ChannelSet:
    """The enabled channels of the registry the config was built from (its ``channels``).

    Each channel's factory imports its adapter, so the core stays SDK-free."""
    for spec in config.channels:
        for name, level in spec.quiet_loggers.items():
            logging.getLogger(name).setLevel(level)
    services = ChannelServices(hub, config, tokens, ApiChannelStore(mongo))
    return build_channels(config.channels, services)


# Every feature joins the app the same way, ``setup(app)``, in this order (the order its
# routes are added and its start-up runs). Each reads what it needs from the app's state.
FEATURES: tuple[Feature, ...] = (
    inbox_api,
    media_api,
    agents_api,
    agent_admin_api,
    sync_api,
    kb_api,
    api_channels_api,
    desk_api,
    insights_api,
    reports_api,
    auth_api,
    config_api,
    presence_api,
    contact_panel_api,
    inbox_web,
    comment_setup,
    webhooks_api,
    admin_api,
    privacy_api,
    openapi_api,
    sync_fanout,
    presence_relay,
    inbox_relay,
    bot_service,
    archive_schedule,
    retention,
    ops,
)


def middlewares(config: ChorusConfig, api: ApiRoutes) -> list[Middleware]:
    """The middleware chain, outermost first."""
    return [
        ops.request_middleware,  # log context, request metrics: it sees every final status
        security_middleware(config.http),  # security and CORS headers, WebSocket origins
        error_middleware,  # every failure as JSON with a stable code
        api.auth_middleware,  # the route table's roles and scopes
    ]


def create_app(config: ChorusConfig) -> web.Application:
    app = web.Application(
        client_max_size=config.http.max_body_bytes,
        # Room for every query the API documents: aiohttp's own refusal is plain text.
        handler_args={"max_line_size": config.http.max_request_line_bytes},
    )
    embedded: EmbeddedMongo | None = None
    uri = config.mongo.uri
    if not uri:
        embedded = EmbeddedMongo(config.mongo.embedded.data_dir, config.mongo.embedded.port)
        uri = embedded.uri
        app[EMBEDDED_DB] = embedded
    metrics = HubMetrics()
    mongo = MongoStore(
        make_client(
            uri,
            server_selection_timeout_ms=config.mongo.server_selection_timeout_ms,
            event_listeners=[CommandTimer(metrics.storage_latency)],
        ),
        config.mongo.database,
        config.mongo.write_concern,
    )
    tokens = TokenService(config.auth)
    inbox = InboxStore(mongo)
    outbox = Outbox(OutboxStore(mongo), inbox, config.outbox, metrics)
    hub = Hub(
        inbox,
        EventBus(),
        outbox,
        AgentStore(mongo),
        ChannelStateStore(mongo),
        metrics,
        reopen_window_seconds=config.bot.reopen_window_seconds,
        ingest_batch=config.mongo.ingest_batch,
    )
    media = config.media
    objects = open_objects(media.store, media.local_dir, media.s3)
    hub.media = MediaService(
        media,
        MediaStore(mongo, objects),
        jwt_secret(config.auth),
        inbox=inbox,
        on_attached=hub.files_kept,
    )
    channels = build_adapters(config, hub, tokens, mongo)
    adapters = list(channels.adapters.values())
    hub.stored_is_delivered = frozenset(a.channel for a in channels.able(Capability.LIVE))

    app[CONFIG] = config
    app[MONGO] = mongo
    app[CHANGE_FEED] = ChangeFeed(mongo)
    app[TOKENS] = tokens
    app[HUB] = hub
    app[MEDIA] = hub.media
    app[ADAPTERS] = channels.adapters
    app[CHANNELS] = channels
    app[BOT_STORE] = BotStore(mongo)
    app[LIVE] = feed = AgentFeed(
        tokens,
        queue_size=config.web.agent_send_queue_size,
        heartbeat=config.web.heartbeat_seconds,
        on_drop=lambda: metrics.slow_reader_dropped("agent"),
        session_active=SessionStore(mongo, config.sessions.refresh_ttl_seconds).is_live,
        session_check_seconds=config.web.agent_session_check_seconds,
    )
    app[API_ROUTES] = api = ApiRoutes()
    app.middlewares.extend(middlewares(config, api))

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/inbox/ws", feed.handle)
    for adapter in adapters:
        app.router.add_routes(adapter.routes())
    for adapter in channels.able(Capability.PUBLIC_API):
        for op in cast(ServesApi, adapter).api_operations():
            api.add(op.method, op.path, op.handler, roles=(), public=True,
                    summary=op.summary, body=op.body, status=op.status)  # fmt: skip
    app.cleanup_ctx.append(_database_context(embedded, config))
    app.cleanup_ctx.append(_runtime_context)
    for feature in FEATURES:
        feature.setup(app)
    api.install(app)
    return app


def _database_context(embedded: EmbeddedMongo | None, config: ChorusConfig) -> Any:
    async def database(app: web.Application) -> AsyncIterator[None]:
        if embedded is not None:
            http = f"http://{config.http.host}:{config.http.port}"
            await start_recorded(embedded, config, SERVE, http)
        mongo = app[MONGO]
        try:
            await mongo.ensure_indexes()
        except StorageError as exc:
            await mongo.close()
            if embedded is not None:
                await stop_recorded(embedded, config)
            raise RuntimeError(f"cannot prepare the database: {exc}") from exc
        yield
        await app[CHANGE_FEED].close()
        await mongo.close()
        if embedded is not None:
            await stop_recorded(embedded, config)

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
    await app[LIVE].close_all()
    await hub.outbox.stop(grace)
    await hub.events.drain(grace)
    await hub.close()


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    mongo = request.app[MONGO]
    try:
        ready = await asyncio.wait_for(mongo.ping(), timeout=2.0)
    except TimeoutError:
        ready = False
    checks = {"mongo": "ok" if ready else "unreachable"}
    body: dict[str, Any] = {"status": "ready" if ready else "not_ready", "checks": checks}
    # Channels that poll their platform say where they stand (next poll, rate limits).
    channels = channel_status(request.app[CHANNELS])
    if channels:
        body["channels"] = channels
    return web.json_response(body, status=200 if ready else 503)
