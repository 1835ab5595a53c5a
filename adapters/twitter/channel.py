"""The X (Twitter) channel's declaration for the registry."""

from __future__ import annotations

from adapters.twitter import doctor
from adapters.twitter.config import TwitterConfig
from hub.channels.port import Capability, ChannelAdapter, ChannelServices, ChannelSpec


def build(section: TwitterConfig, services: ChannelServices) -> ChannelAdapter:
    from adapters.twitter.adapter import TwitterAdapter

    return TwitterAdapter(section, services.hub)


CHANNEL = ChannelSpec(
    name="twitter",
    section="twitter",
    config=TwitterConfig,
    build=build,
    doctor=doctor.check_credentials,
    capabilities=frozenset({Capability.STATUS}),
)
