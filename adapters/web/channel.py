"""The web chat channel's declaration for the registry."""

from __future__ import annotations

from adapters.web.config import WebChatConfig
from hub.channels.port import Capability, ChannelAdapter, ChannelServices, ChannelSpec


def build(section: WebChatConfig, services: ChannelServices) -> ChannelAdapter:
    from adapters.web.adapter import WebChatAdapter

    trust = services.config.sessions.trust_forwarded_for
    return WebChatAdapter(section, services.hub, services.tokens, trust)


CHANNEL = ChannelSpec(
    name="web",
    section="web",
    config=WebChatConfig,
    build=build,
    capabilities=frozenset(
        {Capability.DRAIN, Capability.LIVE, Capability.TYPING, Capability.PUBLIC_API}
    ),
)
