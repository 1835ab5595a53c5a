"""Inbox happenings as webhook events, owed durably to every endpoint that wants them.

An event is ``{"id", "type", "created_at", "data"}``; ``data`` holds the objects as the
API shows them. The id is stable: it is stored with the body, so every retry and replay
sends the same bytes, and receivers deduplicate on it. Events named after an object's
birth (``message.created``, ``conversation.created``, ``contact.created``) take their id
from the object, so the same birth is never owed twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from hub.domain import Contact, Conversation, WebhookEventType, new_id, utcnow
from hub.events import InboxEvent
from storage.webhooks import WebhookStore

log = logging.getLogger(__name__)

COMMENT_EVENTS: dict[str, WebhookEventType] = {
    "approved": "comment.published",
    "held": "comment.held",
    "rejected": "comment.rejected",
}


class WebhookEvents:
    """Turns inbox events into stored deliveries, then wakes the sender."""

    def __init__(
        self,
        store: WebhookStore,
        wake: Callable[[], None],
        contact: Callable[[str], Awaitable[Contact | None]],
    ) -> None:
        self.store = store
        self.wake = wake
        self.contact = contact

    async def emit(
        self,
        event_type: WebhookEventType,
        data: Mapping[str, Any],
        *,
        event_id: str | None = None,
        at: datetime | None = None,
    ) -> str:
        """Owe one event to the endpoints subscribed to its type; returns its id."""
        event_id = event_id or f"evt_{new_id()}"
        endpoints = await self.store.subscribed(event_type)
        if not endpoints:
            return event_id
        event = {
            "id": event_id,
            "type": event_type,
            "created_at": (at or utcnow()).isoformat(),
            "data": dict(data),
        }
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)
        if await self.store.enqueue(event_id, event_type, body, [e.id for e in endpoints]):
            self.wake()
        return event_id

    async def on_inbox_event(self, event: InboxEvent) -> None:
        """The event bus listener: messages, edits and conversation changes."""
        conversation = event.conversation
        if event.kind == "conversation":
            await self._conversation_changed(event)
            return
        message = event.message
        if message is None:
            return
        data = {
            "message": message.model_dump(mode="json", exclude={"raw"}),  # as the API shows it
            "conversation": _conversation(conversation),
        }
        if event.kind == "message_updated":
            await self.emit("message.updated", data)
            return
        if event.new_conversation:
            await self._maybe_new_contact(conversation)
            await self.emit(
                "conversation.created",
                {"conversation": _conversation(conversation)},
                event_id=f"evt_conversation_{conversation.id}",
                at=conversation.created_at,
            )
        await self.emit(
            "message.created", data, event_id=f"evt_message_{message.id}", at=message.created_at
        )

    async def _conversation_changed(self, event: InboxEvent) -> None:
        now, before = event.conversation, event.previous
        common = {
            "conversation": _conversation(now),
            "actor": event.actor.model_dump(mode="json") if event.actor else None,
            "reason": event.reason,
        }
        if before is None or before.status != now.status:
            await self.emit(
                "conversation.status_changed",
                common
                | {
                    "previous_status": before.status if before else None,
                    "status": now.status,
                    "handoff": before is not None
                    and before.status == "bot"
                    and now.status == "open",
                },
            )
        if now.assignee is not None and (before is None or before.assignee != now.assignee):
            await self.emit(
                "conversation.assigned",
                common
                | {
                    "assignee": now.assignee,
                    "previous_assignee": before.assignee if before else None,
                },
            )

    async def _maybe_new_contact(self, conversation: Conversation) -> None:
        # Contacts are born with their first conversation.
        if not await self.store.first_conversation_of_contact(conversation.contact_id):
            return
        contact = await self.contact(conversation.contact_id)
        if contact is not None:
            await self.emit(
                "contact.created",
                {"contact": _contact(contact)},
                event_id=f"evt_contact_{contact.id}",
                at=contact.created_at,
            )

    async def contact_merged(self, kept: Contact, merged_id: str) -> None:
        await self.emit(
            "contact.merged", {"contact": _contact(kept), "merged_contact_id": merged_id}
        )

    async def comment_decided(self, status: str, comment: Mapping[str, Any]) -> None:
        """A comment was published, held or rejected; ``comment`` as the API shows it."""
        event_type = COMMENT_EVENTS.get(status)
        if event_type is not None:
            await self.emit(event_type, {"comment": dict(comment)})


def _conversation(conversation: Conversation) -> dict[str, Any]:
    return conversation.model_dump(mode="json")


def _contact(contact: Contact) -> dict[str, Any]:
    return contact.model_dump(mode="json")
