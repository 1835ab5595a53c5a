"""The ``telegram`` section."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from hub.channels.section import ChannelSection


class TelegramConfig(ChannelSection):
    """The Telegram channel: a bot reached by webhook or by long polling."""

    enabled: bool = False
    bot_token: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")
    mode: Literal["webhook", "polling"] = "webhook"
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    poll_timeout_seconds: int = Field(default=30, ge=0, le=50)
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_charset(cls, value: SecretStr) -> SecretStr:
        # Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - as a secret_token.
        secret = value.get_secret_value()
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("use 1 to 256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _required_when_enabled(self) -> TelegramConfig:
        if not self.enabled:
            return self
        if not self.bot_token.get_secret_value():
            raise ValueError(
                "telegram.bot_token is required when telegram.enabled is true "
                "(set CHORUS_TELEGRAM__BOT_TOKEN)"
            )
        if self.mode == "webhook" and not self.webhook_secret.get_secret_value():
            raise ValueError(
                "telegram.webhook_secret is required in webhook mode "
                "(set CHORUS_TELEGRAM__WEBHOOK_SECRET)"
            )
        return self
