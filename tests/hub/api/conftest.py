"""Fixtures of this folder, shared from ``tests.helpers.api``."""

from tests.helpers.api import (  # noqa: F401 (fixtures pytest finds here)
    config,
)
