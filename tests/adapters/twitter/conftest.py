"""Fixtures of this folder, shared from ``tests.helpers.twitter``."""

from tests.helpers.twitter import (  # noqa: F401 (fixtures pytest finds here)
    twitter_api,
    twitter_config,
)
