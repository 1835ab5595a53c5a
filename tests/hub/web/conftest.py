"""Fixtures of this folder, shared from ``tests.helpers.browser``."""

from tests.helpers.browser import (  # noqa: F401 (fixtures pytest finds here)
    agent,
    browser,
    hub_url,
)
