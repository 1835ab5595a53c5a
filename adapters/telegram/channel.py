"""The Telegram channel's declaration for the registry."""

from __future__ import annotations

import logging

from adapters.telegram import cli, doctor
from adapters.telegram.config import TelegramConfig
from hub.channels.port import Capability, ChannelAdapter, ChannelServices, ChannelSpec


def build(section: TelegramConfig, services: ChannelServices) -> ChannelAdapter:
    from adapters.telegram.adapter import TelegramAdapter

    return TelegramAdapter(section, services.hub)


CHANNEL = ChannelSpec(
    name="telegram",
    section="telegram",
    config=TelegramConfig,
    build=build,
    doctor=doctor.check_credentials,
    cli=cli.register,
    capabilities=frozenset({Capability.TYPING}),
    # python-telegram-bot logs request parameters (message texts) at DEBUG.
    quiet_loggers={"telegram": logging.INFO},
)
