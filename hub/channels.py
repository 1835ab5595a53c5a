"""The one interface every channel adapter implements, and the port it talks to the hub by.

An adapter verifies, parses and normalizes what its platform sends, hands it to the hub
through ``HubPort`` and delivers what the hub asks it to ``send``. It never touches
storage; the hub never imports a platform SDK.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from aiohttp import web
from pydantic import BaseModel

from hub.domain import (
    Agent,
    Attachment,
    Author,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    DeliveryResult,
    HistoryPage,
    InboundMessage,
    Message,
    OutboundMessage,
    ReceiveResult,
)
from hub.events import Listener
from hub.metrics import HubMetrics


class ChannelState(Protocol):
    """Durable memory for adapters: id mappings, seen delivery ids, polling checkpoints."""

    async def link(self, conversation_id: str, channel: str, kind: str, key: str) -> bool: ...

    async def conversation_for(self, channel: str, kind: str, key: str) -> str | None: ...

    async def keys_for(self, conversation_id: str, channel: str, kind: str) -> list[str]: ...

    async def first_sighting(self, channel: str, event_id: str) -> bool: ...

    async def forget_sighting(self, channel: str, event_id: str) -> None: ...

    async def load_checkpoint(self, name: str) -> Any: ...

    async def save_checkpoint(self, name: str, value: Any) -> datetime: ...


class HubPort(Protocol):
    """What the hub offers adapters."""

    @property
    def channel_state(self) -> ChannelState: ...

    @property
    def metrics(self) -> HubMetrics:
        """The hub's Prometheus metrics (``hub.metrics``): count what the channel sees."""
        ...

    async def receive(self, inbound: InboundMessage) -> ReceiveResult:
        """Store one inbound message durably (idempotent on its external id), then react."""
        ...

    async def edit_message(
        self, channel: Channel, external_id: str, text: str, raw: dict[str, Any]
    ) -> Message | None:
        """Apply a sender's edit, keeping the previous text; None if the message is unknown."""
        ...

    async def delete_message(self, channel: Channel, external_id: str) -> Message | None:
        """Apply a sender's deletion as a tombstone; None if the message is unknown."""
        ...

    async def history(
        self, channel: Channel, sender_id: str, after_id: str | None, limit: int
    ) -> HistoryPage:
        """Messages a customer may see on ``channel`` after a message, in commit order."""
        ...

    async def conversation_messages(
        self, conversation_id: str, after: int, before: int
    ) -> list[Message]:
        """The customer's messages of a conversation with ``after < seq < before``."""
        ...

    async def reply(
        self,
        conversation_id: str,
        author: Author,
        text: str,
        *,
        attachments: Sequence[Attachment] = (),
        private: bool = False,
        client_id: str | None = None,
    ) -> Message:
        """Record an agent's or the bot's outbound message; the outbox delivers it."""
        ...

    async def require_conversation(self, conversation_id: str) -> Conversation: ...

    async def update_conversation(
        self, conversation_id: str, changes: dict[str, Any]
    ) -> Conversation: ...

    async def get_contact(self, contact_id: str) -> Contact | None: ...

    async def recent_messages(self, conversation_id: str, limit: int) -> list[Message]: ...

    async def agent_for_slack_user(self, slack_user_id: str) -> Agent | None: ...

    async def link_slack_user(
        self, agent_id: str, slack_user_id: str | None, *, take_over: bool = False
    ) -> Agent:
        """Make a Slack user act as the agent (configured mappings are seeded this way)."""
        ...

    async def conversations_with_status(
        self, status: ConversationStatus, limit: int
    ) -> list[Conversation]: ...

    async def set_agent_online(self, agent_id: str, online: bool) -> Agent:
        """An agent became active (connected, or active in Slack) or left."""
        ...

    async def submit_public_comment(self, inbound: InboundMessage, message: Message) -> None:
        """Hand a public post (a mention, a reply) to moderation as a comment."""
        ...

    def subscribe(self, listener: Listener) -> None:
        """Be told of inbox events (messages stored, conversations changed)."""
        ...


@runtime_checkable
class ChannelAdapter(Protocol):
    """One channel: the routes or pollers it contributes, its lifecycle, and delivery."""

    channel: Channel

    def routes(self) -> Sequence[web.AbstractRouteDef]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, outbound: OutboundMessage) -> DeliveryResult: ...


@dataclass(frozen=True)
class PublicOperation:
    """An endpoint under ``/api/v1`` that a channel serves with its own credentials (an
    inbox token, say): it joins the API's route table as public, so the OpenAPI document
    describes it, and the channel's handler checks who is calling."""

    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    summary: str
    body: type[BaseModel] | None = None
    status: int = 200


@runtime_checkable
class ServesApi(Protocol):
    """A channel that contributes public API operations (declared, not looked up)."""

    def api_operations(self) -> Sequence[PublicOperation]: ...


def channel_status(adapters: Mapping[Channel, ChannelAdapter]) -> dict[str, Any]:
    """``status()`` of every adapter that has one (polling channels report their next poll
    and rate-limit windows), for ``/readyz`` and metrics."""
    found: dict[str, Any] = {}
    for name, adapter in adapters.items():
        status = getattr(adapter, "status", None)
        if callable(status):
            found[name] = status()
    return found
