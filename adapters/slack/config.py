"""The ``slack`` section."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from hub.channels.section import ChannelSection


class SlackConfig(ChannelSection):
    """Slack: agents answer from threads in ``agent_channel``; Slack users may be customers."""

    enabled: bool = False
    bot_token: SecretStr = SecretStr("")
    signing_secret: SecretStr = SecretStr("")
    agent_channel: str = ""
    mirror_all: bool = False
    api_base_url: str = "https://slack.com/api/"
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    agents: dict[str, str] = Field(default_factory=dict)

    @field_validator("api_base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto base_url, so it must end with a slash.
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _required_when_enabled(self) -> SlackConfig:
        if self.enabled:
            for key in ("bot_token", "signing_secret"):
                if not getattr(self, key).get_secret_value():
                    raise ValueError(f"slack.{key} is required when slack.enabled is true")
            if not self.agent_channel:
                raise ValueError("slack.agent_channel is required when slack.enabled is true")
        return self
