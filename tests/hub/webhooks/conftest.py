"""Webhook tests' configuration: loopback receivers allowed, fast retries."""

from __future__ import annotations

import pytest

from hub.config.model import ChorusConfig


@pytest.fixture
def hook_config(config: ChorusConfig) -> ChorusConfig:
    """Loopback receivers allowed, fast retries, a short request timeout."""
    config.webhooks.allow_private_addresses = True
    config.webhooks.base_delay_seconds = 0.02
    config.webhooks.max_delay_seconds = 0.6
    config.webhooks.request_timeout_seconds = 0.5
    config.webhooks.poll_seconds = 0.2
    return config
