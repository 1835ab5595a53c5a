"""The hub core: stores what customers send, records what agents and the bot answer.

Store first, react after: ``receive`` returns once MongoDB confirmed the write, and only
then are listeners (bot, agent sockets, mirrors) told, each in its own task.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from hub.core.media import MediaService
from hub.core.outbox import Outbox
from hub.domain import (
    Agent,
    Attachment,
    Author,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Delivery,
    HistoryPage,
    Identity,
    InboundMessage,
    Message,
    ReceiveResult,
    new_id,
    utcnow,
)
from hub.errors import BadRequest, Conflict, ConversationChanged, DuplicateRecord, NotFound
from hub.routing.states import reopen_status
from hub.runtime.events import EventBus, EventKind, InboxEvent, Listener
from hub.runtime.logs import bind, current_context, log_context, scoped_log_context
from hub.runtime.metrics import HubMetrics
from hub.runtime.presence import Presence, PresenceSignal
from storage.agents import AgentStore
from storage.channel_state import ChannelStateStore
from storage.conditional_updates import ConditionalUpdates
from storage.filters import ConversationFilter, MessageFilter
from storage.group_commit import GroupCommit
from storage.inbox import InboxStore
from storage.ingest import InboundWriter
from storage.presence import CustomerSeen
from storage.sequence import page_after
from storage.webhook_journal import transition_owed

log = logging.getLogger(__name__)
REPLYING_LIMIT = 10_000


class CommentSink(Protocol):
    """Where public posts go to be moderated as comments (set by the app factory)."""

    async def submit_public_comment(self, inbound: InboundMessage, message: Message) -> None: ...


class Hub:
    """The inbox as the rest of the product sees it."""

    comment_sink: CommentSink | None = None
    # Files on messages (set by the app factory).
    media: MediaService | None = None

    def __init__(
        self,
        store: InboxStore,
        events: EventBus,
        outbox: Outbox,
        agents: AgentStore,
        channel_state: ChannelStateStore,
        metrics: HubMetrics | None = None,
        *,
        reopen_window_seconds: float = 0.0,
        ingest_batch: int = 256,
    ) -> None:
        self.metrics = metrics or HubMetrics()
        self.store = store
        self.events = events
        self.outbox = outbox
        self.agents = agents
        self.channel_state = channel_state
        self.writer = InboundWriter(
            store, max_batch=ingest_batch, log_fields=current_context, log_scope=log_context
        )
        # A customer writing this soon after resolution reopens the conversation.
        self.reopen_window = timedelta(seconds=reopen_window_seconds)
        self.writer.before_open = self._reopen_recent
        # Replies (bot and agents) share group commit too: one insert for concurrent ones.
        self.replies: GroupCommit[Message, tuple[Message, bool]] = GroupCommit(
            self._insert_replies, max_batch=ingest_batch, name="replies"
        )
        # A reply that does not bring its conversation (an agent's, through the API) reads
        # it for the 404 check; concurrent replies share that read, one query for them all.
        self.reply_reads: GroupCommit[str, Conversation | None] = GroupCommit(
            self._read_conversations, max_batch=ingest_batch, name="reply reads"
        )
        # Changes made from an event's conversation (handoffs) share bulk updates.
        self.conditional = ConditionalUpdates(store, max_batch=ingest_batch)
        # Conversations this process is replying in, noted before the insert: the change
        # stream may bring a reply back before ``reply`` returns, and its pusher needs only
        # the recipient, which never changes, so it need not read the conversation again.
        self._replying: OrderedDict[str, Conversation] = OrderedDict()
        # Typing and read receipts: ephemeral signals, plus the receipt kept on the
        # conversation.
        self.presence = Presence()
        self.seen = CustomerSeen(store.conversations)
        # Channels whose clients read replies from the store (pushed live to connected
        # ones, fetched from history by the rest): a stored reply is a delivered one, so
        # it is written as sent and the outbox never claims or updates it.
        self.stored_is_delivered: frozenset[Channel] = frozenset()

    async def _insert_replies(self, messages: Sequence[Message]) -> list[tuple[Message, bool]]:
        stored, duplicate = await self.store.sequence.insert(messages)
        return list(zip(stored, duplicate, strict=True))

    async def _read_conversations(self, ids: Sequence[str]) -> list[Conversation | None]:
        found = await self.store.conversations_by_id(ids)
        return [found.get(conversation_id) for conversation_id in ids]

    async def conversation(self, conversation_id: str) -> Conversation | None:
        """A conversation as stored (read from the database)."""
        return await self.store.get_conversation(conversation_id)

    def known_conversation(self, conversation_id: str) -> Conversation | None:
        """A conversation this process replied in lately (its recipient is current)."""
        return self._replying.get(conversation_id)

    async def close(self) -> None:
        """Stop the group-commit writers (recency updates still pending are written)."""
        await self.reply_reads.close()
        await self.replies.close()
        await self.conditional.close()
        await self.writer.close()

    def subscribe(self, listener: Listener) -> None:
        self.events.subscribe(listener)

    async def get_contact(self, contact_id: str) -> Contact | None:
        return await self.store.get_contact(contact_id)

    async def recent_messages(self, conversation_id: str, limit: int) -> list[Message]:
        return await self.store.recent_messages(
            MessageFilter(conversation_id=conversation_id), limit
        )

    async def agent_for(self, channel: Channel, user_id: str) -> Agent | None:
        return await self.agents.find_by_channel_user(channel, user_id)

    async def link_agent(
        self, channel: Channel, agent_id: str, user_id: str | None, *, take_over: bool = False
    ) -> Agent:
        """Make ``user_id`` of ``channel`` act as the agent (None unlinks); the agent is
        created if new.

        A channel's user stands for one agent at most: if another agent holds it, this is
        a ``Conflict`` unless ``take_over`` (configuration is the source of truth at start).
        """
        taken = f"{channel}_user_taken"
        if user_id is not None:
            holder = await self.agents.find_by_channel_user(channel, user_id)
            if holder is not None and holder.id != agent_id:
                if not take_over:
                    raise Conflict(
                        f"{channel} user {user_id} is already linked to agent {holder.id}",
                        code=taken,
                    )
                await self.agents.link_channel_user(holder.id, channel, None)
        try:
            return await self.agents.link_channel_user(agent_id, channel, user_id)
        except DuplicateRecord as exc:  # another request linked it meanwhile
            raise Conflict(
                f"{channel} user {user_id} is already linked to another agent", code=taken
            ) from exc

    async def conversations_with_status(
        self, status: ConversationStatus, limit: int
    ) -> list[Conversation]:
        """The most recently active conversations in ``status``."""
        items, _ = await self.store.list_conversations(
            ConversationFilter(status=status), limit, None
        )
        return items

    async def set_agent_online(self, agent_id: str, online: bool) -> Agent:
        """Called when an agent connects to (or leaves) the web inbox or is active in Slack;
        assignment only picks online agents."""
        return await self.agents.set_online(agent_id, online)

    async def submit_public_comment(self, inbound: InboundMessage, message: Message) -> None:
        # With moderation disabled there is no sink: public posts are only stored as messages.
        if self.comment_sink is None:
            log.debug("public comment not moderated", extra={"message_id": message.id})
            return
        await self.comment_sink.submit_public_comment(inbound, message)

    @scoped_log_context
    async def receive(self, inbound: InboundMessage) -> ReceiveResult:
        message_id = new_id()
        bind(message_id=message_id)
        stored = await self.writer.store_one(inbound, message_id)
        result = ReceiveResult(
            message=stored.message, conversation=stored.conversation, duplicate=stored.duplicate
        )
        if stored.duplicate:
            bind(message_id=stored.message.id)
            self.metrics.duplicate(stored.message.channel)
            log.info("duplicate inbound ignored", extra={"message_id": stored.message.id})
            return result
        self.metrics.received(stored.message.channel)
        conversation = stored.conversation
        if inbound.route and (stored.new_conversation or inbound.route != conversation.route):
            # Replies go where the newest message asks (e.g. the latest tweet of a thread).
            followed = await self.store.follow_route(
                conversation.id, inbound.route, inbound.created_at
            )
            if followed is not None:
                conversation = followed
                result = ReceiveResult(
                    message=stored.message, conversation=conversation, duplicate=False
                )
        log.info(
            "inbound stored",
            extra={
                "message_id": stored.message.id,
                "channel": stored.message.channel,
                "conversation_id": conversation.id,
            },
        )
        self.events.publish(
            InboxEvent(
                "message",
                conversation,
                stored.message,
                new_conversation=stored.new_conversation,
            )
        )
        return result

    async def edit_message(
        self, channel: Channel, external_id: str, text: str, raw: Mapping[str, Any]
    ) -> Message | None:
        """Apply a sender's edit to a stored message (the previous text is kept in ``edits``).

        None when the message is unknown, so the adapter can store the edit as a new message.
        """
        before = await self.store.message_by_external_id(channel, external_id)
        message = await self.store.edit_message(channel, external_id, text, raw)
        if message is not None and before is not None and before.text != message.text:
            log.info("inbound edited", extra={"message_id": message.id, "channel": channel})
            await self._publish_update(message)
        return message

    async def delete_message(self, channel: Channel, external_id: str) -> Message | None:
        """Apply a sender's deletion: a tombstone keeps the fact and every earlier version.

        None when the message is unknown (nothing is stored for it)."""
        before = await self.store.message_by_external_id(channel, external_id)
        message = await self.store.delete_message(channel, external_id)
        if message is not None and before is not None and before.deleted_at is None:
            log.info("inbound deleted", extra={"message_id": message.id, "channel": channel})
            await self._publish_update(message)
        return message

    async def _publish_update(self, message: Message, kind: EventKind = "message_updated") -> None:
        conversation = await self.store.get_conversation(message.conversation_id)
        if conversation is not None:
            self.events.publish(InboxEvent(kind, conversation, message))

    async def files_kept(self, message: Message) -> None:
        """A platform's file joined its stored message (fetched after the acknowledgement):
        open inboxes show the attachment, and its thumbnail, without a reload."""
        await self._publish_update(message, "message_files")

    async def _reopen_recent(self, contact: Contact, inbound: InboundMessage) -> bool:
        """Reopen the thread's conversation if it was resolved within the reopen window;
        True if it did."""
        if self.reopen_window <= timedelta(0):
            return False
        since = inbound.created_at - self.reopen_window
        resolved = await self.store.last_resolved(
            contact.id, inbound.channel, inbound.thread_key, since
        )
        if resolved is None:
            return False
        actor = Author(kind="contact", id=contact.id, name=contact.name)
        status = reopen_status(resolved.assignee)
        owed = transition_owed(resolved, {"status": status}, actor, "reopened")
        reopened = await self.store.reopen(resolved.id, status, owed)
        if reopened is None:
            return False
        self.events.publish(
            InboxEvent("conversation", reopened, previous=resolved, actor=actor, reason="reopened")
        )
        return True

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
        conversation: Conversation | None = None,
    ) -> Message:
        """Record an outbound message; unless private, the outbox delivers it.

        ``conversation``, when the caller holds it (the bot has it from the event), saves
        reading it again; otherwise concurrent replies read theirs in one query. The reply
        is answered once its own insert is durable.
        """
        if not text.strip() and not attachments:
            raise BadRequest("a reply needs text or an attachment", code="empty_message")
        if conversation is None or conversation.id != conversation_id:
            conversation = await self.reply_reads.submit(conversation_id)
            if conversation is None:
                raise NotFound(f"conversation {conversation_id} not found")
        now = utcnow()
        message_id = new_id()
        bind(message_id=message_id)
        delivered = conversation.channel in self.stored_is_delivered
        delivery = None
        if not private:
            delivery = (
                Delivery(status="sent", attempts=1, updated_at=now)
                if delivered
                else Delivery(status="pending", next_attempt_at=now)
            )
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
            delivery=delivery,
            private=private,
            client_id=client_id,
        )
        self._replying[conversation.id] = conversation
        self._replying.move_to_end(conversation.id)
        while len(self._replying) > REPLYING_LIMIT:
            self._replying.popitem(last=False)
        stored, duplicate = await self.replies.submit(message)
        if duplicate:
            return stored
        # Recency is derived data, refreshed in bulk like the inbound messages' (ingest).
        self.writer.note_activity([stored])
        log.info("outbound stored", extra={"message_id": stored.id, "private": private})
        if delivered and not private:
            self.metrics.sent(stored.channel)
        elif not private:
            self.outbox.offer(stored, conversation)
        self.events.publish(InboxEvent("message", conversation, stored))
        return stored

    async def require_conversation(self, conversation_id: str) -> Conversation:
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return conversation

    async def update_conversation(
        self,
        conversation_id: str,
        changes: Mapping[str, Any],
        *,
        actor: Author | None = None,
        reason: str | None = None,
        previous: Conversation | None = None,
        expect_routing: bool = False,
    ) -> Conversation:
        """Apply ``changes`` and publish the transition; ``previous``, when the caller has
        just read the conversation, saves reading it again. With ``expect_routing``,
        ``previous`` may be older: the change applies only if the stored status and
        assignee are still its own (``ConversationChanged`` otherwise)."""
        if previous is None:
            previous = await self.require_conversation(conversation_id)
        events = transition_owed(previous, changes, actor, reason)
        try:
            if expect_routing:
                # Concurrent ones share a bulk update; the result is ``previous`` changed.
                expect = {"status": previous.status, "assignee": previous.assignee}
                updated = await self.conditional.apply(previous, changes, expect, events)
                if updated is None:
                    raise ConversationChanged(f"conversation {conversation_id} changed meanwhile")
            else:
                updated = await self.store.update_conversation(
                    conversation_id, changes, current=previous, events=events
                )
        except ValueError as exc:  # another active conversation holds the thread
            raise BadRequest(str(exc), code="conversation_conflict") from exc
        if updated is None:
            raise NotFound(f"conversation {conversation_id} not found")
        self.events.publish(
            InboxEvent("conversation", updated, previous=previous, actor=actor, reason=reason)
        )
        return updated

    async def history(
        self, channel: Channel, sender_id: str, after_id: str | None, limit: int
    ) -> HistoryPage:
        """What the customer may see after the message ``after_id`` (the newest ``limit``
        without it), in each conversation's commit order: a position is "every message
        committed before it", so nothing committed earlier can appear after it later."""
        contact = await self.store.find_contact(channel, sender_id)
        if contact is None:
            return HistoryPage([], {}, more=False)
        filters = MessageFilter(contact_id=contact.id, channels=frozenset({channel}), private=False)
        anchor = None
        if after_id is not None:
            anchor = await self.store.find_message(after_id, filters)
        if anchor is None or anchor.seq is None:
            # No position (first visit, an unknown or pre-seq message): the newest messages.
            recent = await self.store.recent_messages(filters, limit)
            positions: dict[str, int] = {}
            for message in recent:
                positions[message.conversation_id] = max(
                    message.seq or 0, positions.get(message.conversation_id, 0)
                )
            return HistoryPage(recent, positions, more=False)
        later = await self.store.later_conversations(contact.id, channel, anchor.conversation_id)
        order = [(anchor.conversation_id, anchor.seq), *((cid, 0) for cid in later)]
        return await page_after(self.store.sequence, order, limit)

    async def conversation_messages(
        self, conversation_id: str, after: int, before: int
    ) -> list[Message]:
        """A customer's messages of one conversation with ``after < seq < before``."""
        found: list[Message] = []
        while after < before - 1:
            window = await self.store.sequence.between(conversation_id, after, before)
            if not window:
                break
            found.extend(m for m in window if not m.private)
            after = window[-1].seq or before
        return found

    async def customer_typing(self, channel: Channel, sender_id: str, thread_key: str) -> None:
        """Tell agents the customer is typing in their active conversation (never stored)."""
        contact = await self.store.find_contact(channel, sender_id)
        if contact is None:
            return
        conversation = await self.seen.active(contact.id, channel, thread_key)
        if conversation is not None and self.presence.gate.admit(("customer", conversation.id)):
            await self.presence.publish(PresenceSignal("typing", conversation))

    async def customer_seen(self, channel: Channel, sender_id: str, message_id: str) -> bool:
        """Move the customer's read receipt to ``message_id`` when it is one of theirs."""
        contact = await self.store.find_contact(channel, sender_id)
        message = await self.store.get_message(message_id) if contact is not None else None
        if (
            contact is None
            or message is None
            or message.contact_id != contact.id
            or message.channel != channel
            or message.private
        ):
            return False
        if message.seq is None:
            return True  # stored before seqs: no position to keep
        advanced = await self.seen.advance(message.conversation_id, message.seq, utcnow())
        if advanced is not None:
            await self.presence.publish(PresenceSignal("seen", advanced))
        return True

    async def save_contact_details(
        self, channel: Channel, sender_id: str, name: str, email: str | None
    ) -> Contact:
        """Keep a customer's own name and email on their contact (created if new)."""
        contact = await self.store.upsert_contact(
            Identity(channel=channel, external_id=sender_id), name
        )
        if email is not None:
            await self.store.set_contact_email(contact.id, email)
            contact = contact.model_copy(update={"email": email})
        return contact
