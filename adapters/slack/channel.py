"""The Slack channel's declaration for the registry."""

from __future__ import annotations

import logging

from adapters.slack import doctor
from adapters.slack.config import SlackConfig
from hub.channels.port import Capability, ChannelAdapter, ChannelServices, ChannelSpec


def build(section: SlackConfig, services: ChannelServices) -> ChannelAdapter:
    from adapters.slack.adapter import SlackAdapter

    return SlackAdapter(section, services.hub)


CHANNEL = ChannelSpec(
    name="slack",
    section="slack",
    config=SlackConfig,
    build=build,
    doctor=doctor.check_credentials,
    capabilities=frozenset({Capability.AGENT_USERS}),
    # slack_sdk logs request parameters (message texts) at DEBUG; slack_bolt logs refused
    # request bodies at INFO.
    quiet_loggers={"slack_sdk": logging.INFO, "slack_bolt": logging.WARNING},
)
