"""The channels' fixtures (fake platforms on loopback, configs pointed at them), shared here."""

from tests.adapters.slack.conftest import slack_api, slack_config
from tests.adapters.telegram.conftest import fake_telegram, telegram_server, tg_client, tg_config
from tests.adapters.twitter.conftest import twitter_api, twitter_config

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
