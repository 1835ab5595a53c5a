"""The ``wechat`` section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from hub.channels.section import ChannelSection


class WeChatConfig(ChannelSection):
    """The WeChat Official Account channel: signed XML callbacks, customer-service replies."""

    enabled: bool = False
    app_id: str = ""
    app_secret: SecretStr = SecretStr("")
    token: SecretStr = SecretStr("")
    encoding_aes_key: SecretStr = SecretStr("")
    mode: Literal["plain", "safe"] = "safe"
    api_base_url: str = "https://api.weixin.qq.com"
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=262_144, ge=1024)
    reply_window_hours: float = Field(default=48.0, gt=0)

    @model_validator(mode="after")
    def _required_when_enabled(self) -> WeChatConfig:
        if not self.enabled:
            return self
        missing = [
            name
            for name, value in (
                ("app_id", self.app_id),
                ("app_secret", self.app_secret.get_secret_value()),
                ("token", self.token.get_secret_value()),
            )
            if not value
        ]
        if self.mode == "safe" and len(self.encoding_aes_key.get_secret_value()) != 43:
            missing.append("encoding_aes_key (43 characters, for safe mode)")
        if missing:
            raise ValueError("wechat.enabled is true but these are not set: " + ", ".join(missing))
        return self
