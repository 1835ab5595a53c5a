"""Inbox happenings as webhook events, owed durably to every endpoint that wants them.

Each write that makes an event happen records it as owed on the document it writes
(storage/webhook_journal.py); ``WebhookEvents.reconcile`` turns owed events into one
delivery per subscribed endpoint and then forgets them, so nothing is lost between a
write and its event, whichever hub instance dies where.

An event is ``{"id", "type", "created_at", "data"}``; ``data`` holds the objects as the
API shows them. The id is stable: it is stored with the body, so every retry and replay
sends the same bytes, and receivers deduplicate on it. Events named after an object's
birth (``message.created``, ``conversation.created``, ``contact.created``) take their id
from the object, so the same birth is never owed twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from hub.domain import Contact, Conversation, Message, WebhookEndpoint
from hub.runtime.events import InboxEvent
from storage.inbox import contact_from_doc, conversation_from_doc
from storage.message_docs import message_from_doc
from storage.mongo import Document
from storage.webhook_journal import JOURNALED, OWED, WebhookJournal
from storage.webhooks import WebhookStore

log = logging.getLogger(__name__)

# How a journaled document is shown in its events, where the API's view is not the
# document's model (comments: hub.api.comments.full_view, given by the app).
DocumentView = Callable[[Document], Mapping[str, Any]]
# Conversations that this process's events carried, kept until their message is settled.
MAX_HINTS = 10_000
# Inbox events wake the sender at most this often: each pass scans the journaled
# collections, so under load one pass per window serves every message in it, and a
# webhook still leaves within about a second of its write.
WAKE_COALESCE_SECONDS = 1.0


class WebhookEvents:
    """Turns inbox events into stored deliveries, then wakes the sender."""

    def __init__(
        self,
        store: WebhookStore,
        journal: WebhookJournal,
        wake: Callable[[], None],
    ) -> None:
        self.store = store
        self.journal = journal
        self.wake = wake
        self.comment_view: DocumentView = dict
        # By message id: the conversation its event carried, so settling it reads none.
        self._conversations: OrderedDict[str, Conversation] = OrderedDict()
        self._wake_due: asyncio.TimerHandle | None = None

    async def on_inbox_event(self, event: InboxEvent) -> None:
        """The event bus listener: the write that published ``event`` owes its webhook
        events already (storage/webhook_journal.py), so the sender need only be woken.
        The conversation the event carries is kept for the message's events."""
        if event.message is not None:
            self._conversations[event.message.id] = event.conversation
            self._conversations.move_to_end(event.message.id)
            while len(self._conversations) > MAX_HINTS:
                self._conversations.popitem(last=False)
        if self._wake_due is None:
            self._wake_due = asyncio.get_running_loop().call_later(
                WAKE_COALESCE_SECONDS, self._coalesced_wake
            )

    def _coalesced_wake(self) -> None:
        self._wake_due = None
        self.wake()

    async def reconcile(self, limit: int = 100) -> int:
        """Turn owed events into deliveries, then forget them; returns the documents seen.

        Run by the sender before each pass, so an event owed by a write whose hub died
        before anything else happened is delivered by the next pass of any instance."""
        endpoints = await self.store.active_endpoints()
        seen = 0
        for collection in JOURNALED:
            docs = await self.journal.owing(collection, limit)
            seen += len(docs)
            if not endpoints:  # nobody wants them: forgotten unread, in one write
                for doc in docs:
                    self._conversations.pop(doc["_id"], None)
                await self.journal.settle_many(docs, collection)
                continue
            owners: dict[str, Conversation] = {}
            if collection == "messages":
                owners = await self._owners(docs)
            for doc in docs:
                entries = doc.get(OWED) or []
                for entry in entries:
                    data = self._event_data(collection, doc, entry, owners.get(doc["_id"]))
                    if data is not None:
                        await self._owe(entry, data, endpoints)
            await self.journal.settle_many(docs, collection)
        return seen

    async def _owners(self, messages: list[Document]) -> dict[str, Conversation]:
        """Each owing message's conversation (by message id): the one its event carried
        in this process, else read (one query for all those missing)."""
        owners = {
            d["_id"]: self._conversations.pop(d["_id"])
            for d in messages
            if d["_id"] in self._conversations
        }
        missing = [d for d in messages if d["_id"] not in owners]
        found = await self.journal.by_ids("conversations", [d["conversation_id"] for d in missing])
        for doc in missing:
            if doc["conversation_id"] in found:
                owners[doc["_id"]] = conversation_from_doc(found[doc["conversation_id"]])
        return owners

    async def _owe(
        self, entry: Document, data: Mapping[str, Any], endpoints: list[WebhookEndpoint]
    ) -> None:
        wanted = [e.id for e in endpoints if entry["type"] in e.events]
        if wanted:
            body = _body(entry["id"], entry["type"], entry["at"], data)
            await self.store.enqueue(entry["id"], entry["type"], body, wanted)

    def _event_data(
        self,
        collection: str,
        doc: Document,
        entry: Document,
        owner: Conversation | None,
    ) -> dict[str, Any] | None:
        """The objects an owed event carries, as the API shows them now (normally at once),
        with what only the moment of the write knew (a status change's previous status)."""
        extra = {k: v for k, v in entry.items() if k not in ("type", "id", "at")}
        if collection == "contacts":
            return {"contact": _contact(contact_from_doc(doc)), **extra}
        if collection == "conversations":
            return {"conversation": _conversation(conversation_from_doc(doc)), **extra}
        if collection == "comments":
            return {"comment": dict(self.comment_view(doc))}
        if owner is None:
            return None  # the conversation is gone (erased): nothing left to tell
        message = _version(message_from_doc(doc), entry)
        return {"message": message, "conversation": _conversation(owner)}


def _body(event_id: str, event_type: str, at: datetime, data: Mapping[str, Any]) -> str:
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    event = {"id": event_id, "type": event_type, "created_at": at.isoformat(), "data": dict(data)}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)


def _version(message: Message, entry: Document) -> dict[str, Any]:
    """The message as the version its event reports: as created (``message.created``) or
    after its n-th change (``message.updated``), whatever changed after."""
    version = int(entry.get("version", 0))
    if version == 0:
        text = message.edits[0].text if message.edits else message.text
        state = {"text": text, "deleted_at": None}
    else:
        deleted_at = entry.get("deleted_at")
        if isinstance(deleted_at, datetime) and deleted_at.tzinfo is None:
            deleted_at = deleted_at.replace(tzinfo=UTC)
        state = {"text": entry.get("text", ""), "deleted_at": deleted_at}
    at = message.model_copy(update={**state, "edits": message.edits[:version]})
    return at.model_dump(mode="json", exclude={"raw"})


def _conversation(conversation: Conversation) -> dict[str, Any]:
    return conversation.model_dump(mode="json")


def _contact(contact: Contact) -> dict[str, Any]:
    return contact.model_dump(mode="json")
