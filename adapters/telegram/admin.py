"""Operator actions on the bot's Bot API registration (``chorus telegram …``)."""

from __future__ import annotations

from urllib.parse import urlparse

from telegram.error import InvalidToken, TelegramError

from adapters.telegram.adapter import make_bot
from adapters.telegram.config import TelegramConfig

ALLOWED_UPDATES = ["message", "edited_message"]


class AdminError(Exception):
    """The action cannot be done; the message says why."""


async def set_webhook(config: TelegramConfig, url: str) -> str:
    """Register ``url`` as the webhook, with the configured secret token."""
    if urlparse(url).scheme != "https":
        raise AdminError("Telegram only delivers webhooks to https:// URLs")
    secret = config.webhook_secret.get_secret_value()
    if not config.bot_token.get_secret_value():
        raise AdminError("telegram.bot_token is not set (CHORUS_TELEGRAM__BOT_TOKEN)")
    if not secret:
        raise AdminError("telegram.webhook_secret is not set (CHORUS_TELEGRAM__WEBHOOK_SECRET)")
    try:
        async with make_bot(config) as bot:
            await bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    except TelegramError as exc:
        raise _refused(exc) from None
    return f"webhook set to {url}"


async def delete_webhook(config: TelegramConfig) -> str:
    """Remove the webhook (needed before polling mode can fetch updates)."""
    if not config.bot_token.get_secret_value():
        raise AdminError("telegram.bot_token is not set (CHORUS_TELEGRAM__BOT_TOKEN)")
    try:
        async with make_bot(config) as bot:
            await bot.delete_webhook()
    except TelegramError as exc:
        raise _refused(exc) from None
    return "webhook removed"


def _refused(exc: TelegramError) -> AdminError:
    # PTB's InvalidToken message quotes the token; never print it.
    if isinstance(exc, InvalidToken):
        return AdminError("telegram.bot_token was rejected by the Bot API")
    return AdminError(f"the Bot API refused: {exc.message}")
