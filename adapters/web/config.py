"""The ``web`` section: the chat widget's sockets (and the agents' inbox sockets)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from hub.channels.section import ChannelSection, Section

_CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"


class BusinessHours(Section):
    """When agents answer: ``days`` (0 is Monday) from ``open`` to ``close`` in ``timezone``."""

    timezone: str = Field(default="UTC", max_length=64)
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], max_length=7)
    open: str = Field(default="09:00", pattern=_CLOCK)
    close: str = Field(default="17:00", pattern=_CLOCK)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r} (an IANA name, e.g. Asia/Shanghai)"
            ) from None
        return value

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(day not in range(7) for day in value):
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        return value


class WidgetSettings(Section):
    """How the chat widget looks and speaks; a script tag's ``data-`` attributes win."""

    title: str = Field(default="", max_length=80)  # empty: "Chat with us" in its language
    color: str = Field(default="#2952cc", pattern=r"^#[0-9a-fA-F]{6}$")
    greeting: str = Field(default="", max_length=500)  # shown first, never stored
    position: Literal["right", "left"] = "right"
    language: Literal["auto", "en", "zh-CN"] = "auto"  # auto: the page's lang, the browser's
    # Asked before the first message (none: no pre-chat form).
    prechat_fields: list[Literal["name", "email"]] = Field(default_factory=list, max_length=2)
    # Outside these hours, or with no agent connected, the widget offers the offline form.
    hours: BusinessHours | None = None


class WebChatConfig(ChannelSection):
    enabled: bool = True
    max_frame_bytes: int = Field(default=16_384, ge=256)
    max_text_chars: int = Field(default=4_000, ge=1)
    heartbeat_seconds: float = Field(default=25.0, gt=0)
    send_queue_size: int = Field(default=256, ge=1)
    agent_send_queue_size: int = Field(default=1024, ge=1)
    # How often an agent socket re-checks that its login session was not revoked elsewhere.
    agent_session_check_seconds: float = Field(default=30.0, gt=0, le=3600)
    history_limit: int = Field(default=100, ge=1, le=1000)
    # Volume limits, in memory per process: messages per visitor (a token bucket; an
    # address gets max_connections_per_address visitors' worth) and sockets per address.
    message_burst: int = Field(default=30, ge=1)
    message_refill_per_second: float = Field(default=1.0, gt=0)
    max_connections_per_address: int = Field(default=100, ge=1)
    # Typing and read-receipt frames per visitor (a token bucket of their own).
    signal_burst: int = Field(default=20, ge=1)
    signal_refill_per_second: float = Field(default=2.0, gt=0)
    widget: WidgetSettings = Field(default_factory=WidgetSettings)
