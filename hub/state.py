"""Typed keys for the objects the app shares with its handlers."""

from __future__ import annotations

from aiohttp import web

from hub.access.tokens import TokenService
from hub.channels.port import ChannelAdapter, ChannelSet
from hub.config.model import ChorusConfig
from hub.core.hub import Hub
from hub.domain import Channel
from hub.web.live import AgentFeed
from storage.bot import BotStore
from storage.change_feed import ChangeFeed
from storage.mongo import MongoStore

CONFIG = web.AppKey("config", ChorusConfig)
MONGO = web.AppKey("mongo", MongoStore)
# One change stream per instance, shared by everything in it that watches the inbox.
CHANGE_FEED = web.AppKey("change_feed", ChangeFeed)
HUB = web.AppKey("hub", Hub)
TOKENS = web.AppKey("tokens", TokenService)
ADAPTERS = web.AppKey("adapters", dict[Channel, ChannelAdapter])
CHANNELS = web.AppKey("channels", ChannelSet)
LIVE = web.AppKey("live", AgentFeed)
# One per app: the bot keeps counter increments in memory until a flush, and the stats
# read through the same store so they include those not written yet.
BOT_STORE = web.AppKey("bot_store", BotStore)
