"""Fixtures for the X channel: the fake API v2 on loopback and a hub configured for it."""

from __future__ import annotations

import hashlib
import hmac
from base64 import b64encode
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.twitter.adapter import TwitterAdapter
from adapters.twitter.config import TwitterConfig
from hub.config.model import ChorusConfig
from hub.state import ADAPTERS
from tests.fakes.twitter_api import FakeTwitterApi

CUSTOMER_ID = "2001"


@pytest.fixture
async def twitter_api() -> AsyncIterator[FakeTwitterApi]:
    api = FakeTwitterApi()
    api.user(CUSTOMER_ID, "Ada Lovelace", "ada")
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
def twitter_config(
    config: ChorusConfig, twitter_api: FakeTwitterApi
) -> Callable[..., ChorusConfig]:
    """The test config with the X channel on, pointed at the fake (overrides by keyword)."""

    def make(**overrides: Any) -> ChorusConfig:
        creds = twitter_api.credentials
        section = TwitterConfig(
            enabled=True,
            consumer_key=creds.consumer_key,
            consumer_secret=creds.consumer_secret,
            access_token=creds.access_token,
            access_token_secret=creds.access_token_secret,
            account_user_id=twitter_api.account_id,
            api_base_url=twitter_api.base_url,
            poll_interval_seconds=0.2,
            **overrides,
        )
        return config.model_copy(update={"twitter": section})

    return make


def adapter_of(client: Any) -> TwitterAdapter:
    adapter = client.app[ADAPTERS]["twitter"]
    assert isinstance(adapter, TwitterAdapter)
    return adapter


def signature(secret: str, body: bytes) -> str:
    """The webhook signature, computed here independently of the adapter's code."""
    return "sha256=" + b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def tweet(tweet_id: str, text: str, *, user_id: str = CUSTOMER_ID, **extra: Any) -> dict[str, Any]:
    """A v1.1 tweet object by the customer (or ``user_id``)."""
    return {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "user": {
            "id": int(user_id),
            "id_str": user_id,
            "name": "Ada Lovelace",
            "screen_name": "ada",
        },
        "entities": {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []},
        **extra,
    }
