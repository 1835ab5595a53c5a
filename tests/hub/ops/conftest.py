"""Ops fixtures: the X fake, so a scripted session includes a polling channel."""

from tests.helpers.twitter import twitter_api, twitter_config  # noqa: F401
