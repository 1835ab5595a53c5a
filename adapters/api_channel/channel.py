"""The API channel's declaration for the registry."""

from __future__ import annotations

from adapters.api_channel.config import ApiChannelsConfig
from hub.channels.port import Capability, ChannelAdapter, ChannelServices, ChannelSpec


def build(section: ApiChannelsConfig, services: ChannelServices) -> ChannelAdapter:
    from adapters.api_channel.adapter import ApiChannelAdapter

    return ApiChannelAdapter(section, services.hub, services.api_inboxes)


CHANNEL = ChannelSpec(
    name="api",
    section="api_channels",
    config=ApiChannelsConfig,
    build=build,
    capabilities=frozenset({Capability.PUBLIC_API}),
)
