"""The ``twitter`` section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from hub.channels.section import ChannelSection


class TwitterConfig(ChannelSection):
    """X (Twitter): mentions and DMs of one account in, reply tweets and DMs out."""

    enabled: bool = False
    bearer_token: SecretStr = SecretStr("")
    consumer_key: SecretStr = SecretStr("")
    consumer_secret: SecretStr = SecretStr("")
    access_token: SecretStr = SecretStr("")
    access_token_secret: SecretStr = SecretStr("")
    account_user_id: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    api_base_url: str = "https://api.twitter.com"
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_max_body_bytes: int = Field(default=262_144, ge=1024)

    @model_validator(mode="after")
    def _credentials_when_enabled(self) -> TwitterConfig:
        if not self.enabled:
            return self
        # Posting and reading DMs need user context (OAuth 1.0a); webhooks need the
        # consumer secret; the bearer token is optional (app-only reads of mentions).
        for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
            if not getattr(self, key).get_secret_value():
                raise ValueError(f"twitter.{key} is required when twitter.enabled is true")
        if not self.account_user_id:
            raise ValueError("twitter.account_user_id is required when twitter.enabled is true")
        return self
