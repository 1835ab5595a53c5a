"""The hub core: stores what customers send, records what agents and the bot answer.

Store first, react after: ``receive`` returns once MongoDB confirmed the write, and only
then are listeners (bot, agent sockets, mirrors) told, each in its own task.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from hub.domain import (
    Agent,
    Attachment,
    Author,
    Channel,
    Contact,
    Conversation,
    Delivery,
    Identity,
    InboundMessage,
    Message,
    ReceiveResult,
    new_id,
    utcnow,
)
from hub.errors import BadRequest, NotFound
from hub.events import EventBus, InboxEvent, Listener
from hub.logs import bind, scoped_log_context
from hub.metrics import HubMetrics
from hub.outbox import Outbox
from storage.agents import AgentStore
from storage.channel_state import ChannelStateStore
from storage.inbox import InboxStore

log = logging.getLogger(__name__)


class Hub:
    """The inbox as the rest of the product sees it."""

    def __init__(
        self,
        store: InboxStore,
        events: EventBus,
        outbox: Outbox,
        agents: AgentStore,
        channel_state: ChannelStateStore,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.metrics = metrics or HubMetrics()
        self.store = store
        self.events = events
        self.outbox = outbox
        self.agents = agents
        self.channel_state = channel_state

    def subscribe(self, listener: Listener) -> None:
        self.events.subscribe(listener)

    async def get_contact(self, contact_id: str) -> Contact | None:
        return await self.store.get_contact(contact_id)

    async def recent_messages(self, conversation_id: str, limit: int) -> list[Message]:
        return await self.store.recent_messages({"conversation_id": conversation_id}, limit)

    async def agent_for_slack_user(self, slack_user_id: str) -> Agent | None:
        return await self.agents.find_by_slack_user(slack_user_id)

    async def submit_public_comment(self, inbound: InboundMessage, message: Message) -> None:
        # Moderation plugs in here; until a pipeline is configured, public posts are
        # only stored as messages.
        log.debug("public comment not moderated", extra={"message_id": message.id})

    @scoped_log_context
    async def receive(self, inbound: InboundMessage) -> ReceiveResult:
        message_id = new_id()
        bind(message_id=message_id)
        identity = Identity(
            channel=inbound.channel,
            external_id=inbound.sender_id,
            handle=inbound.sender_handle,
        )
        contact = await self.store.upsert_contact(identity, inbound.sender_name)
        conversation, created = await self.store.open_conversation(
            contact.id, inbound.channel, inbound.thread_key, inbound.sender_id, inbound.route
        )
        message = Message(
            id=message_id,
            conversation_id=conversation.id,
            contact_id=contact.id,
            channel=inbound.channel,
            external_id=inbound.external_id,
            direction="inbound",
            author=Author(kind="contact", id=contact.id, name=contact.name),
            text=inbound.text,
            attachments=inbound.attachments,
            created_at=inbound.created_at,
            client_id=inbound.client_id,
            raw=inbound.raw,
        )
        stored, duplicate = await self.store.insert_message(message)
        if duplicate:
            bind(message_id=stored.id)
            self.metrics.duplicate(stored.channel)
            log.info("duplicate inbound ignored", extra={"message_id": stored.id})
            conversation = await self.store.get_conversation(stored.conversation_id) or conversation
            return ReceiveResult(message=stored, conversation=conversation, duplicate=True)
        await self.store.touch_conversation(conversation.id, stored.created_at)
        self.metrics.received(stored.channel)
        log.info(
            "inbound stored",
            extra={
                "message_id": stored.id,
                "channel": stored.channel,
                "conversation_id": conversation.id,
            },
        )
        self.events.publish(InboxEvent("message", conversation, stored, new_conversation=created))
        return ReceiveResult(message=stored, conversation=conversation, duplicate=False)

    @scoped_log_context
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
        """Record an outbound message; unless private, the outbox delivers it."""
        conversation = await self.require_conversation(conversation_id)
        if not text.strip() and not attachments:
            raise BadRequest("a reply needs text or an attachment", code="empty_message")
        now = utcnow()
        message_id = new_id()
        bind(message_id=message_id)
        message = Message(
            id=message_id,
            conversation_id=conversation.id,
            contact_id=conversation.contact_id,
            channel=conversation.channel,
            # Replies are keyed too, so a client retrying the same reply stores it once.
            external_id=f"out:{conversation.id}:{client_id or message_id}",
            direction="outbound",
            author=author,
            text=text,
            attachments=tuple(attachments),
            created_at=now,
            delivery=None if private else Delivery(status="pending", next_attempt_at=now),
            private=private,
            client_id=client_id,
        )
        stored, duplicate = await self.store.insert_message(message)
        if duplicate:
            return stored
        await self.store.touch_conversation(conversation.id, now)
        log.info("outbound stored", extra={"message_id": stored.id, "private": private})
        if not private:
            self.outbox.wake()
        self.events.publish(InboxEvent("message", conversation, stored))
        return stored

    async def require_conversation(self, conversation_id: str) -> Conversation:
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return conversation

    async def update_conversation(
        self, conversation_id: str, changes: Mapping[str, Any]
    ) -> Conversation:
        await self.require_conversation(conversation_id)
        try:
            updated = await self.store.update_conversation(conversation_id, changes)
        except ValueError as exc:
            raise BadRequest(str(exc), code="conversation_conflict") from exc
        if updated is None:
            raise NotFound(f"conversation {conversation_id} not found")
        self.events.publish(InboxEvent("conversation", updated))
        return updated

    async def history(
        self, channel: Channel, sender_id: str, after_id: str | None, limit: int
    ) -> list[Message]:
        contact = await self.store.find_contact(channel, sender_id)
        if contact is None:
            return []
        filters: dict[str, Any] = {"contact_id": contact.id, "channel": channel, "private": False}
        if after_id is None:
            return await self.store.recent_messages(filters, limit)
        filters["_id"] = {"$gt": after_id}
        items, _ = await self.store.list_messages(filters, limit, None)
        return items
