"""The hub with every API module on (moderation included), and tokens for each role."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.config.model import ChorusConfig

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def config(config: ChorusConfig) -> ChorusConfig:
    config.moderation.enabled = True
    return config
