"""The channel registry: every channel Chorus ships, each declared once in its package.

The hub iterates this tuple for config sections, adapters, doctor checks, CLI commands
and capabilities (as Rasa's ``BUILTIN_CHANNELS`` or Matterbridge's bridge map). Adding a
channel is one package under ``adapters/`` plus its import and its entry here.
"""

from __future__ import annotations

from typing import Any

from adapters.api_channel.channel import CHANNEL as API_CHANNEL
from adapters.slack.channel import CHANNEL as SLACK
from adapters.telegram.channel import CHANNEL as TELEGRAM
from adapters.twitter.channel import CHANNEL as TWITTER
from adapters.web.channel import CHANNEL as WEB
from adapters.wechat.channel import CHANNEL as WECHAT
from hub.channels.port import ChannelSpec

BUILTIN_CHANNELS: tuple[ChannelSpec[Any], ...] = (
    WEB,
    TELEGRAM,
    SLACK,
    TWITTER,
    WECHAT,
    API_CHANNEL,
)
