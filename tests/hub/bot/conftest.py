"""Fixtures of this folder, shared from ``tests.helpers.bot``."""

from tests.helpers.bot import (  # noqa: F401 (fixtures pytest finds here)
    client_factory,
    config,
    customer,
)
