"""The channels' fixtures (fake platforms on loopback, configs pointed at them), shared here."""

from tests.helpers.slack import slack_api, slack_config
from tests.helpers.telegram import fake_telegram, telegram_server, tg_client, tg_config
from tests.helpers.twitter import twitter_api, twitter_config

__all__ = [
    "fake_telegram",
    "slack_api",
    "slack_config",
    "telegram_server",
    "tg_client",
    "tg_config",
    "twitter_api",
    "twitter_config",
]
