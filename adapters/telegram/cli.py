"""``chorus telegram …``: the bot's webhook registration with the Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from adapters.telegram.config import TelegramConfig


def register(main: click.Group, config_option: Callable[[Any], Any], load: Any) -> None:
    def section(config_path: Path | None) -> TelegramConfig:
        telegram: TelegramConfig = load(config_path).telegram
        return telegram

    @main.group()
    def telegram() -> None:
        """The Telegram channel's registration with the Bot API."""

    @telegram.command("set-webhook")
    @config_option
    @click.option("--url", required=True, help="Public https:// URL of POST /webhooks/telegram.")
    def telegram_set_webhook(config_path: Path | None, url: str) -> None:
        """Register the webhook URL with telegram.webhook_secret as its secret token."""
        from adapters.telegram.admin import AdminError, set_webhook

        try:
            click.echo(asyncio.run(set_webhook(section(config_path), url)))
        except AdminError as exc:
            raise click.ClickException(str(exc)) from None

    @telegram.command("delete-webhook")
    @config_option
    def telegram_delete_webhook(config_path: Path | None) -> None:
        """Remove the webhook, e.g. before switching to polling mode."""
        from adapters.telegram.admin import AdminError, delete_webhook

        try:
            click.echo(asyncio.run(delete_webhook(section(config_path))))
        except AdminError as exc:
            raise click.ClickException(str(exc)) from None
