"""The one interface every channel adapter implements, and the port it talks to the hub by.

An adapter verifies, parses and normalizes what its platform sends, hands it to the hub
through ``HubPort`` and delivers what the hub asks it to ``send``. It never touches
storage; the hub never imports a platform SDK.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeVar, cast, runtime_checkable

import click
from aiohttp import web
from pydantic import BaseModel

from hub.channels.checks import CheckResult, ProbeContext
from hub.channels.section import ChannelSection
from hub.domain import (
    Agent,
    ApiChannel,
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
from hub.runtime.events import Listener
from hub.runtime.metrics import HubMetrics


class ChannelState(Protocol):
    """Durable memory for adapters: id mappings, seen delivery ids, polling checkpoints."""

    async def link(self, conversation_id: str, channel: str, kind: str, key: str) -> bool: ...

    async def conversation_for(self, channel: str, kind: str, key: str) -> str | None: ...

    async def keys_for(self, conversation_id: str, channel: str, kind: str) -> list[str]: ...

    async def first_sighting(self, channel: str, event_id: str) -> bool: ...

    async def forget_sighting(self, channel: str, event_id: str) -> None: ...

    async def load_checkpoint(self, name: str) -> Any: ...

    async def save_checkpoint(self, name: str, value: Any) -> datetime: ...


class MediaPort(Protocol):
    """Files on messages, as adapters see them: bytes in, attachments and links out.

    ``keep`` checks a file by its content and stores it (``unsupported_media_type`` or
    ``file_too_large`` errors otherwise); ``owner`` names who sent it (``web:<visitor>``,
    ``telegram:<chat>``), and ``owned`` finds a sender's own uploads again.
    """

    @property
    def max_bytes(self) -> int:
        """The largest file kept (``media.max_bytes``)."""
        ...

    async def keep(
        self, data: bytes, name: str, *, owner: str, conversation_id: str | None = None
    ) -> Attachment: ...

    async def owned(
        self, media_ids: Iterable[str], owner: str, conversation_id: str | None
    ) -> list[Attachment]: ...

    async def attach_to_message(
        self, message_id: str, index: int, attachment: Attachment
    ) -> None: ...

    async def read(
        self, attachment: Attachment, variant: Literal["file", "thumbnail"]
    ) -> bytes: ...

    def links(self, attachment: Attachment) -> dict[str, str]: ...


class HubPort(Protocol):
    """What the hub offers adapters."""

    @property
    def media(self) -> MediaPort | None:
        """The media store (None when the hub runs without one, as in some tests)."""
        ...

    @property
    def channel_state(self) -> ChannelState: ...

    @property
    def metrics(self) -> HubMetrics:
        """The hub's Prometheus metrics (``hub.runtime.metrics``): count what the channel sees."""
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

    async def agent_for(self, channel: Channel, user_id: str) -> Agent | None:
        """The agent a user of ``channel`` acts as (agents answering from that platform)."""
        ...

    async def link_agent(
        self, channel: Channel, agent_id: str, user_id: str | None, *, take_over: bool = False
    ) -> Agent:
        """Make a user of ``channel`` act as the agent (configured mappings are seeded so)."""
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

    async def customer_typing(self, channel: Channel, sender_id: str, thread_key: str) -> None:
        """The customer is typing in their active conversation (ephemeral, rate-limited)."""
        ...

    async def save_contact_details(
        self, channel: Channel, sender_id: str, name: str, email: str | None
    ) -> Contact:
        """What a customer told about themselves (a form): kept on their contact."""
        ...

    async def customer_seen(self, channel: Channel, sender_id: str, message_id: str) -> bool:
        """The customer saw their conversation up to ``message_id``; False when that is not
        a message of theirs on ``channel``."""
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


@runtime_checkable
class ReportsStatus(Protocol):
    """A channel that reports where its inbound stands (next poll, rate-limit windows)."""

    def status(self) -> dict[str, Any]: ...


@runtime_checkable
class Drains(Protocol):
    """A channel that stops taking input and finishes what is in flight on shutdown."""

    async def drain(self) -> None: ...


@runtime_checkable
class LiveDelivery(Protocol):
    """A channel that pushes stored replies to clients connected to this process.

    Its clients read what they missed from the store, so a stored reply counts as
    delivered: the hub writes it as sent and the outbox never sends it.
    """

    channel: Channel

    def push_live(self, outbound: OutboundMessage) -> int:
        """Queue ``outbound`` to the recipient's local sockets; returns how many."""
        ...


@runtime_checkable
class ShowsTyping(Protocol):
    """A channel that can show its customer that an agent is typing (an ephemeral signal)."""

    channel: Channel

    async def show_typing(self, conversation: Conversation, author: Author) -> None:
        """Tell the conversation's customer ``author`` is typing; failures are only logged."""
        ...


class Capability(StrEnum):
    """What a channel may do beyond ``ChannelAdapter``, declared in its ``ChannelSpec``."""

    PUBLIC_API = "public_api"  # ServesApi: operations under /api/v1
    STATUS = "status"  # ReportsStatus: shown by /readyz
    DRAIN = "drain"  # Drains: called before shutdown
    LIVE = "live"  # LiveDelivery: replies pushed to this instance's sockets
    AGENT_USERS = "agent_users"  # its users can be linked to agents (HubPort.agent_for)
    TYPING = "typing"  # ShowsTyping: the customer sees "agent is typing"


CAPABILITY_PROTOCOLS: dict[Capability, type] = {
    Capability.PUBLIC_API: ServesApi,
    Capability.STATUS: ReportsStatus,
    Capability.DRAIN: Drains,
    Capability.LIVE: LiveDelivery,
    Capability.TYPING: ShowsTyping,
}


class ApiChannelDirectory(Protocol):
    """Where the API channel finds the inboxes admins created (``POST /api-channels``)."""

    async def get(self, channel_id: str) -> ApiChannel | None: ...


class VisitorTokens(Protocol):
    """Signed tokens that let a web visitor come back as themselves (``hub.access.tokens``)."""

    def issue_visitor(self, visitor_id: str) -> str: ...

    def verify_visitor(self, token: str) -> str: ...


@dataclass(frozen=True)
class ChannelServices:
    """What a channel's factory may use: the hub port and the few shared services."""

    hub: HubPort
    config: Any  # the whole ChorusConfig (a factory reads its own section first)
    tokens: VisitorTokens
    api_inboxes: ApiChannelDirectory


SectionT = TypeVar("SectionT", bound=ChannelSection)
ConfigLoader = Callable[[Any], Any]
CliHook = Callable[[click.Group, Callable[[Any], Any], ConfigLoader], None]


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one spec per channel
class ChannelSpec(Generic[SectionT]):
    """Everything the hub needs from one channel, declared once in its package.

    ``section`` is its key in ``config.yaml``, ``config`` that section's model,
    ``build`` makes the adapter (imported lazily there, so no SDK loads before it is
    needed), ``doctor`` checks its credentials with one cheap call, ``cli`` adds its
    commands to ``chorus``, ``capabilities`` says which optional abilities it has, and
    ``quiet_loggers`` caps its SDK's loggers that would log secrets or bodies.
    """

    name: Channel
    section: str
    config: type[SectionT]
    build: Callable[[SectionT, ChannelServices], ChannelAdapter]
    doctor: Callable[[SectionT, ProbeContext], Awaitable[CheckResult]] | None = None
    cli: CliHook | None = None
    capabilities: frozenset[Capability] = frozenset()
    quiet_loggers: Mapping[str, int] = field(default_factory=dict)

    def section_of(self, config: Any) -> SectionT:
        """This channel's section of a ``ChorusConfig``."""
        return cast(SectionT, getattr(config, self.section))

    def create(self, config: Any, services: ChannelServices) -> ChannelAdapter:
        """Build the adapter and hold it to the capabilities the spec declares."""
        adapter = self.build(self.section_of(config), services)
        for capability in self.capabilities:
            protocol = CAPABILITY_PROTOCOLS.get(capability)
            if protocol is not None and not isinstance(adapter, protocol):
                raise TypeError(f"channel {self.name} declares {capability} but lacks it")
        return adapter


@dataclass(frozen=True)
class ChannelSet:
    """The enabled channels' adapters, each with the capabilities its spec declared."""

    adapters: dict[Channel, ChannelAdapter]
    capabilities: dict[Channel, frozenset[Capability]]

    def able(self, capability: Capability) -> list[ChannelAdapter]:
        return [a for name, a in self.adapters.items() if capability in self.capabilities[name]]


def build_channels(specs: Sequence[ChannelSpec[Any]], services: ChannelServices) -> ChannelSet:
    """Build every enabled channel of the registry, in registry order."""
    enabled = [spec for spec in specs if spec.section_of(services.config).enabled]
    return ChannelSet(
        {spec.name: spec.create(services.config, services) for spec in enabled},
        {spec.name: spec.capabilities for spec in enabled},
    )


def channel_status(channels: ChannelSet) -> dict[str, Any]:
    """``status()`` of every channel that declares it (polling channels report their next
    poll and rate-limit windows), for ``/readyz`` and metrics."""
    return {
        adapter.channel: cast(ReportsStatus, adapter).status()
        for adapter in channels.able(Capability.STATUS)
    }
