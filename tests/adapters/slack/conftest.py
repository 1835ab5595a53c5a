"""Fixtures of this folder, shared from ``tests.helpers.slack``."""

from tests.helpers.slack import (  # noqa: F401 (fixtures pytest finds here)
    client,
    slack,
    slack_api,
    slack_config,
)
