"""The one interface every channel adapter implements, and the port it talks to the hub by.

An adapter verifies, parses and normalizes what its platform sends, hands it to the hub
through ``HubPort`` and delivers what the hub asks it to ``send``. It never touches
storage; the hub never imports a platform SDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from aiohttp import web

from hub.domain import (
    Channel,
    DeliveryResult,
    InboundMessage,
    Message,
    OutboundMessage,
    ReceiveResult,
)


class HubPort(Protocol):
    """What the hub offers adapters."""

    async def receive(self, inbound: InboundMessage) -> ReceiveResult:
        """Store one inbound message durably (idempotent on its external id), then react."""
        ...

    async def history(
        self, channel: Channel, sender_id: str, after_id: str | None, limit: int
    ) -> list[Message]:
        """Messages a customer may see in their conversations on ``channel``, oldest first."""
        ...


@runtime_checkable
class ChannelAdapter(Protocol):
    """One channel: the routes or pollers it contributes, its lifecycle, and delivery."""

    channel: Channel

    def routes(self) -> Sequence[web.AbstractRouteDef]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, outbound: OutboundMessage) -> DeliveryResult: ...
