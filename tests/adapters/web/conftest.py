"""These tests are about the web channel itself, so the bot stays quiet here; the bot over
the web channel is tested in tests/hub/bot/."""

from __future__ import annotations

import pytest

from hub.config import ChorusConfig


@pytest.fixture
def config(config: ChorusConfig) -> ChorusConfig:
    config.bot.enabled = False
    return config
