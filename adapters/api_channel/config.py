"""The ``api_channels`` section."""

from __future__ import annotations

from pydantic import Field

from hub.channels.section import ChannelSection


class ApiChannelsConfig(ChannelSection):
    """API inboxes: integrators post messages with an inbox token, replies go to a webhook."""

    enabled: bool = True
    request_timeout_seconds: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=262_144, ge=1024)
