"""The app factory: builds the object graph from config and ties lifetimes to the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from pymongo.errors import PyMongoError

from hub import inbox_web
from hub.api import admin as admin_api
from hub.api import agents as agents_api
from hub.api import api_channels as api_channels_api
from hub.api import auth as auth_api
from hub.api import desk as desk_api
from hub.api import inbox as inbox_api
from hub.api import insights as insights_api
from hub.api import kb as kb_api
from hub.api import openapi as openapi_api
from hub.api import sync as sync_api
from hub.api import webhooks as webhooks_api
from hub.api.routes import ApiRoutes
from hub.archive_schedule import archive_schedule_context
from hub.auth import TokenService
from hub.bot import service as bot_service
from hub.channels import ChannelAdapter, ServesApi, channel_status
from hub.config import ChorusConfig
from hub.core import Hub
from hub.database import SERVE, start_recorded, stop_recorded
from hub.domain import Channel
from hub.events import EventBus
from hub.http import error_middleware
from hub.live import AgentFeed
from hub.metrics import HubMetrics
from hub.ops import install_ops
from hub.outbox import Outbox
from hub.state import ADAPTERS, CONFIG, HUB, LIVE, MONGO, TOKENS
from hub.sync.fanout import fanout_context
from hub.web_security import security_middleware
from hub.webhooks import service as webhooks
from storage.agents import AgentStore
from storage.api_channels import ApiChannelStore
from storage.channel_state import ChannelStateStore
from storage.embedded import EmbeddedMongo
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client
from storage.outbox import OutboxStore
from storage.sessions import SessionStore

log = logging.getLogger(__name__)

# The embedded database this app runs, if any: ``chorus serve`` stops it after a failed
# start, since aiohttp does not run the app's cleanup when its startup fails.
EMBEDDED_DB = web.AppKey("embedded_db", EmbeddedMongo)


def build_adapters(
    config: ChorusConfig, hub: Hub, tokens: TokenService, mongo: MongoStore
) -> list[ChannelAdapter]:
    """The enabled channels. Adapters are imported here only, so the core stays SDK-free."""
    adapters: list[ChannelAdapter] = []
    if config.web.enabled:
        from adapters.web import WebChatAdapter

        adapters.append(
            WebChatAdapter(config.web, hub, tokens, config.sessions.trust_forwarded_for)
        )
    if config.telegram.enabled:
        from adapters.telegram.adapter import TelegramAdapter

        adapters.append(TelegramAdapter(config.telegram, hub))
    if config.slack.enabled:
        from adapters.slack import SlackAdapter

        adapters.append(SlackAdapter(config.slack, hub))
    if config.twitter.enabled:
        from adapters.twitter import TwitterAdapter

        adapters.append(TwitterAdapter(config.twitter, hub))
    if config.wechat.enabled:
        from adapters.wechat.adapter import WeChatAdapter

        adapters.append(WeChatAdapter(config.wechat, hub))
    if config.api_channels.enabled:
        from adapters.api_channel.adapter import ApiChannelAdapter

        adapters.append(ApiChannelAdapter(config.api_channels, hub, ApiChannelStore(mongo)))
    return adapters


def create_app(config: ChorusConfig) -> web.Application:
    app = web.Application(
        client_max_size=config.http.max_body_bytes,
        middlewares=[security_middleware(config.http), error_middleware],
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
            event_listeners=[metrics.storage_listener],
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
    adapters = build_adapters(config, hub, tokens, mongo)

    app[CONFIG] = config
    app[MONGO] = mongo
    app[TOKENS] = tokens
    app[HUB] = hub
    app[ADAPTERS] = {adapter.channel: adapter for adapter in adapters}
    app[LIVE] = feed = AgentFeed(
        tokens,
        queue_size=config.web.agent_send_queue_size,
        heartbeat=config.web.heartbeat_seconds,
        on_drop=lambda: metrics.slow_reader_dropped("agent"),
        session_active=SessionStore(mongo, config.sessions.refresh_ttl_seconds).is_live,
        session_check_seconds=config.web.agent_session_check_seconds,
    )
    hub.subscribe(feed.on_event)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/inbox/ws", feed.handle)
    for adapter in adapters:
        app.router.add_routes(adapter.routes())
    api = ApiRoutes()
    inbox_api.register(api)
    agents_api.register(api)
    sync_api.register(api)
    kb_api.register(api)
    api_channels_api.register(api)
    desk_api.register(api)
    insights_api.register(api)
    auth_api.install(app, api, mongo, config.sessions)
    for adapter in adapters:
        if isinstance(adapter, ServesApi):
            for op in adapter.api_operations():
                api.add(op.method, op.path, op.handler, roles=(), public=True,
                        summary=op.summary, body=op.body, status=op.status)  # fmt: skip
    inbox_web.install(app, api)
    hooks = (
        webhooks.build(config.webhooks, hub, mongo, metrics) if config.webhooks.enabled else None
    )
    if hooks is not None:
        app[webhooks.WEBHOOKS] = hooks
        webhooks_api.register(api)
    if config.moderation.enabled:
        from hub.api import comment_setup

        comments = comment_setup.install(app, api, config.moderation, hub, mongo)
        if hooks is not None:
            comments.on_decided = webhooks_api.comment_listener(hooks)
    admin_api.register(api)
    openapi_api.register(api)
    api.install(app)

    app.cleanup_ctx.append(_database_context(embedded, config))
    app.cleanup_ctx.append(_runtime_context)
    app.cleanup_ctx.append(fanout_context)
    bot_service.install(app, config, hub, mongo)
    app.cleanup_ctx.append(archive_schedule_context)
    if hooks is not None:
        app.cleanup_ctx.append(webhooks.sender_context(hooks, config.http.shutdown_grace_seconds))
    install_ops(app, metrics)
    return app


def _database_context(embedded: EmbeddedMongo | None, config: ChorusConfig) -> Any:
    async def database(app: web.Application) -> AsyncIterator[None]:
        if embedded is not None:
            http = f"http://{config.http.host}:{config.http.port}"
            await start_recorded(embedded, config, SERVE, http)
        mongo = app[MONGO]
        try:
            await mongo.ensure_indexes()
        except PyMongoError as exc:
            await mongo.close()
            if embedded is not None:
                await stop_recorded(embedded, config)
            raise RuntimeError(f"cannot prepare the database: {exc}") from exc
        yield
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
    await hub.writer.close()


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
    adapters = request.app[ADAPTERS]
    channels = channel_status(adapters)
    if channels:
        body["channels"] = channels
    return web.json_response(body, status=200 if ready else 503)
