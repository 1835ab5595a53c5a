"""The WeChat Official Account channel's declaration for the registry."""

from __future__ import annotations

from adapters.wechat import doctor
from adapters.wechat.config import WeChatConfig
from hub.channels.port import ChannelAdapter, ChannelServices, ChannelSpec


def build(section: WeChatConfig, services: ChannelServices) -> ChannelAdapter:
    from adapters.wechat.adapter import WeChatAdapter

    return WeChatAdapter(section, services.hub)


CHANNEL = ChannelSpec(
    name="wechat",
    section="wechat",
    config=WeChatConfig,
    build=build,
    doctor=doctor.check_credentials,
)
