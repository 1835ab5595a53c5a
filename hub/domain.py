"""The normalized inbox model shared by every channel.

Common fields are first-class; whatever a platform sent is kept untouched in ``raw``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from bson import ObjectId
from pydantic import BaseModel, ConfigDict, Field

# A channel's name as its package declares it (``adapters.registry``); the domain keeps
# no list of channels, so adding one never touches this file.
Channel = str
Direction = Literal["inbound", "outbound"]
AuthorKind = Literal["contact", "agent", "bot"]
ConversationStatus = Literal["bot", "open", "pending", "resolved"]
CONVERSATION_STATUSES: tuple[ConversationStatus, ...] = ("bot", "open", "pending", "resolved")
DeliveryStatus = Literal["pending", "sent", "failed"]
AttachmentKind = Literal["image", "audio", "video", "file"]


def new_id() -> str:
    """A time-ordered unique id (an ObjectId's hex form), so ids sort by creation."""
    return str(ObjectId())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Author(Model):
    kind: AuthorKind
    id: str
    name: str = ""


# Attachment URLs are web links only: a javascript: or data: URL must never become a link.
WEB_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"


class Attachment(Model):
    """A file on a message. ``url`` is a link kept elsewhere; a file the hub holds has a
    ``media_id`` in the media store (its bytes under ``storage_key``, an image's thumbnail
    under ``thumbnail_key``) and is downloaded through short-lived signed hub URLs."""

    kind: AttachmentKind = "file"
    name: str = Field(default="", max_length=255)
    mime_type: str = "application/octet-stream"
    size: int | None = None
    url: str | None = Field(default=None, pattern=WEB_URL)
    storage_key: str | None = None
    media_id: str | None = Field(default=None, max_length=64)
    sha256: str | None = None
    thumbnail_key: str | None = None
    width: int | None = None
    height: int | None = None


class Delivery(Model):
    """Where an outbound message stands on its way to the platform."""

    status: DeliveryStatus = "pending"
    reason: str | None = None
    attempts: int = 0
    platform_id: str | None = None
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    # Which claim holds the lease (storage's own bookkeeping, never shown).
    lease_id: str | None = Field(default=None, exclude=True)
    updated_at: datetime | None = None


class MessageEdit(Model):
    """A text a message had before the sender edited it on their platform."""

    text: str
    edited_at: datetime


class Message(Model):
    id: str
    conversation_id: str
    contact_id: str
    channel: Channel
    external_id: str | None = None
    direction: Direction
    author: Author
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    created_at: datetime
    delivery: Delivery | None = None
    private: bool = False
    client_id: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)
    edits: tuple[MessageEdit, ...] = ()
    # Set when the sender deleted it on their platform: the text is gone, the fact stays.
    deleted_at: datetime | None = None
    # Position in its conversation, in commit order (storage/sequence.py); None until stored.
    seq: int | None = None


class Identity(Model):
    """A contact as one channel knows them: the platform's stable user id."""

    channel: Channel
    external_id: str
    handle: str | None = None
    reachable: bool = True


class Contact(Model):
    id: str
    name: str = ""
    email: str | None = None
    notes: str = ""  # what agents noted about the customer (the contact panel)
    identities: tuple[Identity, ...] = ()
    created_at: datetime


class Conversation(Model):
    id: str
    contact_id: str
    channel: Channel
    thread_key: str
    recipient_id: str
    status: ConversationStatus
    assignee: str | None = None
    labels: tuple[str, ...] = ()
    priority: int = 0
    route: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    # The customer's read receipt: every message up to this seq was shown to them.
    customer_seen_seq: int | None = None
    customer_seen_at: datetime | None = None
    # What the bot remembers between turns (hub.bot.flows.Session, with its ``turn``), kept
    # on the conversation so the event that carries it saves a read; never shown.
    bot: dict[str, Any] | None = Field(default=None, exclude=True)


class Agent(Model):
    """A human who answers customers, from the web inbox or from Slack."""

    id: str
    name: str = ""
    email: str | None = None
    role: Literal["admin", "agent"] = "agent"
    slack_user_id: str | None = None
    capacity: int = 5
    online: bool = False
    # A disabled agent cannot log in, and their tokens and sessions stop working.
    disabled: bool = False
    created_at: datetime


def agent_id_for(email: str) -> str:
    """A readable id from the address's local part: ``Ada.L@x.org`` → ``ada-l``."""
    return re.sub(r"[^a-z0-9]+", "-", email.split("@", 1)[0].lower()).strip("-") or "agent"


class ApiChannel(Model):
    """An API inbox: integrators post customers' messages with its token; replies go to its
    webhook, signed with its secret. The token is kept only as a hash."""

    id: str
    name: str
    webhook_url: str
    secret: str
    token_hash: str
    active: bool = True
    created_at: datetime


WebhookEventType = Literal[
    "message.created",
    "message.updated",
    "conversation.created",
    "conversation.status_changed",
    "conversation.assigned",
    "contact.created",
    "contact.merged",
    "comment.published",
    "comment.held",
    "comment.rejected",
]
WEBHOOK_EVENT_TYPES: tuple[WebhookEventType, ...] = get_args(WebhookEventType)


class WebhookEndpoint(Model):
    """Where an admin wants events posted, signed with ``secret``. ``flagged`` says the hub
    paused it itself because it kept failing."""

    id: str
    url: str
    events: tuple[WebhookEventType, ...]
    secret: str
    active: bool = True
    flagged: bool = False
    description: str = ""
    failing_since: datetime | None = None
    created_at: datetime


class InboundMessage(Model):
    """What an adapter hands to the hub: one platform message, normalized.

    ``thread_key`` names the place the customer talks in on that platform (a chat, a DM
    pair, a tweet thread); ``route`` holds what the adapter needs later to answer there.
    """

    channel: Channel
    external_id: str
    sender_id: str
    sender_name: str = ""
    sender_handle: str | None = None
    thread_key: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    created_at: datetime = Field(default_factory=utcnow)
    route: dict[str, Any] = Field(default_factory=dict)
    raw: dict[str, Any] = Field(default_factory=dict)
    client_id: str | None = None


class ReceiveResult(Model):
    message: Message
    conversation: Conversation
    duplicate: bool


class OutboundMessage(Model):
    """What the hub asks an adapter to deliver."""

    message_id: str
    channel: Channel
    text: str
    attachments: tuple[Attachment, ...] = ()
    recipient_id: str
    route: dict[str, Any] = Field(default_factory=dict)
    author: Author
    attempt: int = 1
    # Where the message sits in its conversation, so live delivery can keep commit order.
    conversation_id: str | None = None
    seq: int | None = None


class DeliveryResult(Model):
    """An adapter's answer to ``send``: delivered, or failed (and whether to try again)."""

    ok: bool
    platform_id: str | None = None
    reason: str | None = None
    retryable: bool = False
    retry_after_seconds: float | None = None
    unreachable: bool = False

    @classmethod
    def sent(cls, platform_id: str | None = None) -> DeliveryResult:
        return cls(ok=True, platform_id=platform_id)

    @classmethod
    def failed(
        cls,
        reason: str,
        *,
        retryable: bool = False,
        retry_after_seconds: float | None = None,
        unreachable: bool = False,
    ) -> DeliveryResult:
        return cls(
            ok=False,
            reason=reason,
            retryable=retryable,
            retry_after_seconds=retry_after_seconds,
            unreachable=unreachable,
        )


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """Messages a customer may see after a position, and how far each conversation was read.

    ``positions`` maps a conversation to the highest seq read in it (private notes
    included): everything up to there is in ``messages`` or not for the customer.
    """

    messages: list[Message]
    positions: dict[str, int]
    more: bool


# -- knowledge base ---------------------------------------------------------------
ENTRY_ID = r"^[a-z0-9][a-z0-9_.-]{0,79}$"


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")


class KnowledgeEntry(BaseModel):
    """One FAQ entry: the wordings that should find it, and what the bot answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ENTRY_ID)
    questions: list[str] = Field(min_length=1, max_length=50)
    answer: str = Field(min_length=1, max_length=4000)
    links: list[Link] = Field(default_factory=list, max_length=10)
    # The answer's language; None: any. The bot prefers entries in the customer's language.
    language: Literal["en", "zh"] | None = None
    source: Literal["file", "api"] = "api"

    def reply_text(self) -> str:
        """The answer as sent to a customer, with its links listed below it."""
        lines = [self.answer.strip()]
        lines.extend(f"{link.title}: {link.url}" for link in self.links)
        return "\n".join(lines)
