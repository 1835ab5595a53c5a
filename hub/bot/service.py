"""Wires the bot and routing into the app: stores, listeners, start-up and shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from hub.bot.knowledge import KnowledgeFileError
from hub.bot.runner import BotRunner
from hub.routing.router import Router
from hub.state import BOT_STORE, CONFIG, HUB, MONGO
from storage.canned import CannedResponseStore
from storage.kb import KnowledgeStore
from storage.routing import RoutingStore

ROUTER = web.AppKey("router", Router)
BOT = web.AppKey("bot", BotRunner)
CANNED = web.AppKey("canned_responses", CannedResponseStore)


def setup(app: web.Application) -> None:
    """Routing always runs (agents assign and claim); the bot answers when enabled."""
    config, hub, mongo = app[CONFIG], app[HUB], app[MONGO]
    router = Router(hub, RoutingStore(mongo), config.bot.assignment)
    bot = BotRunner(hub, config.bot, KnowledgeStore(mongo), app[BOT_STORE], router)
    hub.subscribe(router.record)
    hub.subscribe(bot.on_event if config.bot.enabled else router.hand_off_without_bot)
    app[ROUTER] = router
    app[BOT] = bot
    app[CANNED] = CannedResponseStore(mongo)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        if config.bot.enabled:
            try:
                await bot.start()
            except KnowledgeFileError as exc:
                raise RuntimeError(str(exc)) from exc
        router.start()
        yield
        await router.stop()
        await bot.stop()

    app.cleanup_ctx.append(lifetime)
