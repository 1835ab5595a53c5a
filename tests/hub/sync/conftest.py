"""Fixtures of this folder, shared from ``tests.helpers.sync``."""

from tests.helpers.sync import (  # noqa: F401 (fixtures pytest finds here)
    replica_server,
    short_history_server,
)
