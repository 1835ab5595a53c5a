"""Contacts, conversations and messages: the inbox's documents and the queries over them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub.domain import (
    Attachment,
    Contact,
    Conversation,
    ConversationStatus,
    Delivery,
    Identity,
    Message,
    new_id,
    utcnow,
)
from storage.errors import StorageBoundary
from storage.filters import ConversationFilter, MessageFilter
from storage.message_docs import message_from_doc
from storage.mongo import Document, MongoStore
from storage.paging import NewestFirst, by_id
from storage.sequence import MessageSequence
from storage.webhook_journal import born, owed, with_owed

# Fields a client sees on a conversation; storage-only fields stay inside.
_CONVERSATION_FIELDS = set(Conversation.model_fields)


def contact_from_doc(doc: Document) -> Contact:
    fields = {k: v for k, v in doc.items() if k in Contact.model_fields}
    return Contact.model_validate({**fields, "id": doc["_id"]})


def conversation_from_doc(doc: Document) -> Conversation:
    fields = {k: v for k, v in doc.items() if k in _CONVERSATION_FIELDS}
    return Conversation.model_validate({**fields, "id": doc["_id"]})


def _updated_event(doc: Document, text: str, deleted_at: datetime | None = None) -> Document:
    """The message.updated event owed by one more version of the message ``doc``: what the
    version says is kept with it, so the event shows that version however many follow."""
    version = len(doc.get("edits") or []) + 1
    return owed(
        "message.updated",
        f"evt_message_{doc['_id']}_v{version}",
        version=version,
        text=text,
        deleted_at=deleted_at,
    )


def conversation_update(
    changes: Mapping[str, Any], now: datetime, current: Conversation | None
) -> Document:
    """The update applying ``changes`` at ``now``: each changed field's time is kept in
    ``changed_at``; a resolved conversation gives up its ``open_key``, and ``current``, when
    known, gives it back on another status change (setting the key it has is a no-op)."""
    stamps = {f"changed_at.{field}": now for field in changes}
    update: Document = {"$set": {**changes, **stamps, "updated_at": now}}
    if changes.get("status") == "resolved":
        update["$unset"] = {"open_key": ""}
        update["$set"]["resolved_at"] = now
    elif "status" in changes and current is not None:
        update["$set"]["open_key"] = open_key(
            current.contact_id, current.channel, current.thread_key
        )
    return update


def identity_key(channel: str, external_id: str) -> str:
    return f"{channel}:{external_id}"


def open_key(contact_id: str, channel: str, thread_key: str) -> str:
    return f"{contact_id}|{channel}|{thread_key}"


class InboxStore(StorageBoundary):
    """Reads and writes of the inbox collections. Every write is idempotent on retry."""

    def __init__(self, mongo: MongoStore) -> None:
        self.contacts = mongo.collection("contacts")
        self.conversations = mongo.collection("conversations")
        self.messages = mongo.collection("messages")
        self.sequence = MessageSequence(self.messages)
        self._recent = NewestFirst(self.conversations, "last_message_at")

    # -- contacts -----------------------------------------------------------------
    async def upsert_contact(self, identity: Identity, name: str) -> Contact:
        key = identity_key(identity.channel, identity.external_id)
        contact_id = new_id()
        update: Document = {
            "$setOnInsert": {
                "_id": contact_id,
                "created_at": utcnow(),
                **born("contact.created", f"evt_contact_{contact_id}"),
                "identities": [identity.model_dump()],
                "identity_keys": [key],
                "email": None,
            }
        }
        if name:
            update["$set"] = {"name": name}
        else:
            update["$setOnInsert"]["name"] = ""
        for _ in range(3):
            try:
                doc = await self.contacts.find_one_and_update(
                    {"identity_keys": key},
                    update,
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                continue  # a concurrent request created the contact: read it next round
            if doc is not None:  # SecantusDB answers a lost upsert race with null
                break
        else:  # pragma: no cover - three races in a row
            raise RuntimeError("could not upsert contact")
        assert doc is not None
        return contact_from_doc(doc)

    async def find_contact(self, channel: str, external_id: str) -> Contact | None:
        doc = await self.contacts.find_one({"identity_keys": identity_key(channel, external_id)})
        return contact_from_doc(doc) if doc else None

    async def get_contact(self, contact_id: str) -> Contact | None:
        doc = await self.contacts.find_one({"_id": contact_id})
        return contact_from_doc(doc) if doc else None

    async def set_contact_email(self, contact_id: str, email: str) -> None:
        await self.contacts.update_one({"_id": contact_id}, {"$set": {"email": email}})

    async def set_identity_reachable(
        self, contact_id: str, channel: str, external_id: str, reachable: bool
    ) -> None:
        await self.contacts.update_one(
            {"_id": contact_id, "identities.channel": channel},
            {"$set": {"identities.$[ident].reachable": reachable}},
            array_filters=[{"ident.channel": channel, "ident.external_id": external_id}],
        )

    # -- conversations ------------------------------------------------------------
    async def open_conversation(
        self,
        contact_id: str,
        channel: str,
        thread_key: str,
        recipient_id: str,
        route: Mapping[str, Any],
        status: ConversationStatus = "bot",
    ) -> tuple[Conversation, bool]:
        """The contact's active conversation in that thread, created if there is none."""
        key = open_key(contact_id, channel, thread_key)
        now = utcnow()
        conversation_id = new_id()
        insert: Document = {
            "_id": conversation_id,
            "contact_id": contact_id,
            "channel": channel,
            "thread_key": thread_key,
            "recipient_id": recipient_id,
            "status": status,
            "assignee": None,
            "labels": [],
            "route": dict(route),
            "created_at": now,
            "updated_at": now,
            "last_message_at": now,
            **born("conversation.created", f"evt_conversation_{conversation_id}"),
        }
        for _ in range(3):
            try:
                doc = await self.conversations.find_one_and_update(
                    {"open_key": key},
                    {"$setOnInsert": insert},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                continue
            if doc is not None:  # as in upsert_contact: null after a lost race
                break
        else:  # pragma: no cover
            raise RuntimeError("could not open conversation")
        assert doc is not None
        return conversation_from_doc(doc), doc["_id"] == conversation_id

    async def last_resolved(
        self, contact_id: str, channel: str, thread_key: str, since: datetime
    ) -> Conversation | None:
        """The contact's conversation in that thread resolved at or after ``since``, if any."""
        doc = await self.conversations.find_one(
            {
                "contact_id": contact_id,
                "channel": channel,
                "thread_key": thread_key,
                "status": "resolved",
                "resolved_at": {"$gte": since},
            },
            sort=[("resolved_at", -1)],
        )
        return conversation_from_doc(doc) if doc else None

    async def reopen(
        self,
        conversation_id: str,
        status: ConversationStatus,
        events: Sequence[Document] = (),
    ) -> Conversation | None:
        """Make a resolved conversation active again; None if it is not resolved any more or
        the contact already has another active conversation in that thread. ``events`` are
        the webhook events the change owes (storage/webhook_journal.py)."""
        current = await self.conversations.find_one({"_id": conversation_id, "status": "resolved"})
        if current is None:
            return None
        key = open_key(current["contact_id"], current["channel"], current["thread_key"])
        try:
            doc = await self.conversations.find_one_and_update(
                {"_id": conversation_id, "status": "resolved"},
                with_owed(
                    {"$set": {"status": status, "open_key": key, "updated_at": utcnow()}}, events
                ),
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return None
        return conversation_from_doc(doc) if doc else None

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        doc = await self.conversations.find_one({"_id": conversation_id})
        return self.conversation_seen(doc) if doc else None

    async def conversations_by_id(self, ids: Sequence[str]) -> dict[str, Conversation]:
        """Several conversations in one query (those that exist), by id."""
        docs = await self.conversations.find({"_id": {"$in": list(ids)}}).to_list()
        return {doc["_id"]: self.conversation_seen(doc) for doc in docs}

    async def conversation_document(self, conversation_id: str) -> Document | None:
        """The stored conversation as is, ``changed_at`` (per-field change times) included:
        what sync's merge of pushed states compares against."""
        return await self.conversations.find_one({"_id": conversation_id})

    def conversation_seen(self, doc: Document) -> Conversation:
        """A conversation document just read; its ``last_seq`` hint feeds the sequence."""
        self.sequence.observe(doc["_id"], doc.get("last_seq"))
        return conversation_from_doc(doc)

    async def touch_conversation(self, conversation_id: str, at: datetime, seq: int | None) -> None:
        await self.conversations.update_one(
            {"_id": conversation_id},
            {"$max": {"last_message_at": at, "updated_at": utcnow(), "last_seq": seq or 0}},
        )

    async def follow_route(
        self, conversation_id: str, route: Mapping[str, Any], at: datetime
    ) -> Conversation | None:
        """Point the conversation's route at a message's route, unless a newer one set it.

        ``at`` is the message's own time, so a late, older message (a platform retry, a
        backfill) never takes the reply target back; ``None`` when it did not apply.
        """
        doc = await self.conversations.find_one_and_update(
            {
                "_id": conversation_id,
                "$or": [{"route_at": {"$exists": False}}, {"route_at": {"$lte": at}}],
            },
            {"$set": {"route": dict(route), "route_at": at}},
            return_document=ReturnDocument.AFTER,
        )
        return conversation_from_doc(doc) if doc else None

    async def update_conversation(
        self,
        conversation_id: str,
        changes: Mapping[str, Any],
        *,
        unless_changed_after: datetime | None = None,
        current: Conversation | None = None,
        expect: Mapping[str, Any] | None = None,
        events: Sequence[Document] = (),
    ) -> Conversation | None:
        """Apply ``changes``; each changed field's server time is kept in ``changed_at``.

        ``current``, when the caller has just read the conversation, saves reading it again
        to restore ``open_key`` on a status change.

        With ``unless_changed_after``, nothing is written (and None returned) if any of
        the fields changed on the server after that time (offline sync's conflict rule).
        With ``expect``, nothing is written (and None returned) unless the stored fields
        still have those values.
        ``events`` are the webhook events the change owes, recorded by the same write.
        """
        update = conversation_update(changes, utcnow(), current)
        match: Document = {**(expect or {}), "_id": conversation_id}
        if unless_changed_after is not None:
            match["$nor"] = [
                {f"changed_at.{field}": {"$gt": unless_changed_after}} for field in changes
            ]
        if "status" in changes and changes["status"] != "resolved" and current is None:
            doc = await self.conversations.find_one({"_id": conversation_id})
            if doc is None:
                return None
            if "open_key" not in doc:
                update["$set"]["open_key"] = open_key(
                    doc["contact_id"], doc["channel"], doc["thread_key"]
                )
        try:
            doc = await self.conversations.find_one_and_update(
                match, with_owed(update, events), return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError as exc:
            raise ValueError("the contact already has another active conversation there") from exc
        return conversation_from_doc(doc) if doc else None

    async def list_conversations(
        self, filters: ConversationFilter, limit: int, cursor: str | None
    ) -> tuple[list[Conversation], str | None]:
        """Newest last message first; ``InvalidCursor`` for a cursor of the wrong format."""
        docs, next_cursor = await self._recent.page(filters.query(), limit, cursor)
        return [conversation_from_doc(doc) for doc in docs], next_cursor

    # -- messages -------------------------------------------------------------------
    async def insert_message(self, message: Message) -> tuple[Message, bool]:
        """Store ``message`` with its conversation's next seq; if its (channel, external_id)
        is known, return the stored one."""
        stored, duplicate = await self.sequence.insert([message])
        return stored[0], duplicate[0]

    async def edit_message(
        self, channel: str, external_id: str, text: str, raw: Mapping[str, Any]
    ) -> Message | None:
        """Replace a stored message's text, keeping the previous one in ``edits``.

        None when no message has that (channel, external_id). Applying the same edit twice
        changes nothing, so a platform's retry of an edit is harmless.
        """
        query = {"channel": channel, "external_id": external_id}
        for _ in range(5):
            doc = await self.messages.find_one(query)
            if doc is None:
                return None
            if doc.get("text", "") == text:
                return message_from_doc(doc)
            edit = {"text": doc.get("text", ""), "edited_at": utcnow()}
            # Conditional on the text read, so two concurrent edits both land in ``edits``.
            updated = await self.messages.find_one_and_update(
                {"_id": doc["_id"], "text": doc.get("text", "")},
                with_owed(
                    {"$set": {"text": text, "raw": dict(raw)}, "$push": {"edits": edit}},
                    [_updated_event(doc, text)],
                ),
                return_document=ReturnDocument.AFTER,
            )
            if updated is not None:
                return message_from_doc(updated)
        raise RuntimeError("could not apply the edit")  # pragma: no cover - five races

    async def delete_message(self, channel: str, external_id: str) -> Message | None:
        """Tombstone a stored message: its text is removed (kept as the last version in
        ``edits``) and ``deleted_at`` records the fact. None when the message is unknown;
        deleting it again changes nothing."""
        now = utcnow()
        for _ in range(5):
            doc = await self.messages.find_one({"channel": channel, "external_id": external_id})
            if doc is None:
                return None
            if doc.get("deleted_at") is not None:
                return message_from_doc(doc)
            version = {"text": doc.get("text", ""), "edited_at": now}
            updated = await self.messages.find_one_and_update(
                {"_id": doc["_id"], "text": doc.get("text", ""), "deleted_at": None},
                with_owed(
                    {"$set": {"text": "", "deleted_at": now}, "$push": {"edits": version}},
                    [_updated_event(doc, "", now)],
                ),
                return_document=ReturnDocument.AFTER,
            )
            if updated is not None:
                return message_from_doc(updated)
        raise RuntimeError("could not apply the deletion")  # pragma: no cover - five races

    async def message_by_external_id(self, channel: str, external_id: str) -> Message | None:
        """The message a platform knows as ``external_id`` on ``channel``, if stored."""
        doc = await self.messages.find_one({"channel": channel, "external_id": external_id})
        return message_from_doc(doc) if doc else None

    async def get_message(self, message_id: str) -> Message | None:
        doc = await self.messages.find_one({"_id": message_id})
        return message_from_doc(doc) if doc else None

    async def list_messages(
        self, filters: MessageFilter, limit: int, cursor: str | None
    ) -> tuple[list[Message], str | None]:
        docs, next_cursor = await by_id(self.messages, filters.query(), limit, cursor)
        return [message_from_doc(doc) for doc in docs], next_cursor

    async def find_message(self, message_id: str, filters: MessageFilter) -> Message | None:
        """The message ``message_id`` if it also matches ``filters``."""
        doc = await self.messages.find_one({**filters.query(), "_id": message_id})
        return message_from_doc(doc) if doc else None

    async def later_conversations(
        self, contact_id: str, channel: str, after_id: str, limit: int = 20
    ) -> list[str]:
        """Ids of the contact's conversations on ``channel`` opened after ``after_id``."""
        docs = (
            await self.conversations.find(
                {"contact_id": contact_id, "_id": {"$gt": after_id}}, {"channel": 1}
            )
            .sort("_id", 1)
            .limit(limit)
            .to_list()
        )
        return [doc["_id"] for doc in docs if doc.get("channel") == channel]

    async def recent_messages(self, filters: MessageFilter, limit: int) -> list[Message]:
        """The newest ``limit`` messages matching ``filters``, oldest first."""
        docs = await self.messages.find(filters.query()).sort("_id", -1).limit(limit).to_list()
        return [message_from_doc(doc) for doc in reversed(docs)]

    async def set_attachment(
        self, message_id: str, index: int, attachment: Attachment
    ) -> Message | None:
        """Replace one attachment of a stored message: a platform's file, fetched into the
        media store after the message was acknowledged. The message as it is now (None if
        it is gone)."""
        doc = await self.messages.find_one_and_update(
            {"_id": message_id},
            {"$set": {f"attachments.{index}": attachment.model_dump()}},
            return_document=ReturnDocument.AFTER,
        )
        return message_from_doc(doc) if doc else None

    async def set_delivery(self, message_id: str, delivery: Delivery) -> None:
        await self.messages.update_one(
            {"_id": message_id}, {"$set": {"delivery": delivery.model_dump()}}
        )
