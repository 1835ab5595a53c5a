"""Fixtures of this folder, shared from ``tests.helpers.telegram``."""

from tests.helpers.telegram import (  # noqa: F401 (fixtures pytest finds here)
    fake_telegram,
    telegram_server,
    tg_client,
    tg_config,
)
