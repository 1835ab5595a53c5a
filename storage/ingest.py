"""Group commit for inbound messages.

Concurrent inbound messages are stored together: one bulk upsert of their contacts, one of
their conversations, one ``insert_many`` of the messages and one bulk touch, whatever the
batch size. A batch forms naturally while the previous one is being written, so a lone
message waits for nobody; under load, round trips are shared. Each caller still gets its
answer only after its own message is durable under the configured write concern.

Messages are numbered in their conversations (``seq``) by that same ordered insert; a
duplicate in the batch costs a lookup (as before) and one more insert for the messages
after it, a number lost to another hub instance a bounded read and one more insert.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.domain import Author, Contact, Conversation, InboundMessage, Message, new_id, utcnow
from storage.errors import StorageBoundary
from storage.group_commit import GroupCommit
from storage.inbox import (
    InboxStore,
    contact_from_doc,
    identity_key,
    open_key,
)
from storage.mongo import Document
from storage.webhook_journal import born

log = logging.getLogger(__name__)
DUPLICATE_KEY = 11000
CONTACTS_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class Stored:
    """What storing one inbound message produced."""

    message: Message
    conversation: Conversation
    new_conversation: bool
    duplicate: bool


@dataclass(slots=True)
class _Pending:
    inbound: InboundMessage
    message_id: str
    # The caller's log fields (trace id, message id), so the batch's lines can be followed.
    log_fields: dict[str, str] = field(default_factory=dict)


LogFields = Callable[[], dict[str, str]]
LogScope = Callable[..., AbstractContextManager[object]]


class InboundWriter(StorageBoundary):
    """Stores inbound messages in shared batches of at most ``max_batch``.

    ``log_fields`` reads the caller's log context and ``log_scope`` binds fields around a
    batch (the hub passes ``hub.runtime.logs``'); without them the batch logs plainly.
    """

    def __init__(
        self,
        store: InboxStore,
        max_batch: int = 256,
        touch_interval: float = 0.25,
        *,
        log_fields: LogFields = dict,
        log_scope: LogScope = lambda **_: contextlib.nullcontext(),
    ) -> None:
        self.store = store
        self._log_fields = log_fields
        self._log_scope = log_scope
        self.max_batch = max_batch
        self.touch_interval = touch_interval
        self._touches: dict[str, tuple[datetime, int]] = {}
        # Contact ids by identity key, as last stored: a guess, checked by every batch.
        self._contact_ids: OrderedDict[str, str] = OrderedDict()
        # Called for a message that would open a new conversation, so a recently resolved
        # one can be reopened instead; True when it reopened one.
        self.before_open: Callable[[Contact, InboundMessage], Awaitable[bool]] | None = None
        self._toucher: asyncio.Task[None] | None = None
        self._writer: GroupCommit[_Pending, Stored] = GroupCommit(
            self._write_batch, max_batch=max_batch, name="ingest"
        )

    @property
    def batches(self) -> int:
        return self._writer.batches

    @property
    def messages(self) -> int:
        return self._writer.items

    async def store_one(self, inbound: InboundMessage, message_id: str | None = None) -> Stored:
        """Store ``inbound`` (as ``message_id`` if new); returns once it is durable."""
        pending = _Pending(inbound, message_id or new_id(), self._log_fields())
        return await self._writer.submit(pending)

    async def settle(self) -> None:
        """Write pending recency updates now (before a digest or on shutdown)."""
        if self._toucher is not None:
            self._toucher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._toucher
        await self.flush_touches()

    async def close(self) -> None:
        await self.settle()
        await self._writer.close()

    async def _write_batch(self, batch: Sequence[_Pending]) -> list[Stored]:
        # A lone message's storage commands log under its own ids; a shared batch logs
        # under a batch id, and each message says which batch stored it.
        fields = batch[0].log_fields if len(batch) == 1 else {"batch_id": new_id()}
        with self._log_scope(**fields):
            results = await self.store_batch(
                [p.inbound for p in batch], [p.message_id for p in batch]
            )
            if len(batch) > 1:
                for pending in batch:
                    with self._log_scope(**pending.log_fields):
                        log.debug("stored in a shared batch", extra=fields)
        self.note_activity([r.message for r in results if not r.duplicate])
        return results

    async def store_batch(
        self, items: Sequence[InboundMessage], message_ids: Sequence[str] | None = None
    ) -> list[Stored]:
        ids = list(message_ids) if message_ids is not None else [new_id() for _ in items]
        # Returning contacts' conversations are read beside their contacts, by the contact
        # ids seen last time: one round trip instead of two. A contact whose id is not the
        # one guessed (merged or erased meanwhile) has its conversation read after.
        guessed = self._guess_open_keys(items)
        early = (
            asyncio.ensure_future(self._conversations_by_key(sorted(set(guessed.values()))))
            if guessed
            else None
        )
        try:
            contacts, new_contacts = await self._resolve_contacts(items)
        except BaseException:
            if early is not None:
                early.cancel()
                with contextlib.suppress(BaseException):
                    await early
            raise
        # A key names its contact: a wrong guess is a key no message wants, never used.
        read_early = {} if early is None else await early
        known = set(guessed.values())
        self._remember_contacts(contacts)
        conversations, created = await self._resolve_conversations(
            items, contacts, new_contacts, (known, read_early)
        )
        messages: list[Message] = []
        for inbound, message_id in zip(items, ids, strict=True):
            contact = contacts[identity_key(inbound.channel, inbound.sender_id)]
            conversation = conversations[
                open_key(contact["_id"], inbound.channel, inbound.thread_key)
            ]
            messages.append(
                Message(
                    id=message_id,
                    conversation_id=conversation.id,
                    contact_id=contact["_id"],
                    channel=inbound.channel,
                    external_id=inbound.external_id,
                    direction="inbound",
                    author=Author(kind="contact", id=contact["_id"], name=contact.get("name", "")),
                    text=inbound.text,
                    attachments=inbound.attachments,
                    created_at=inbound.created_at,
                    client_id=inbound.client_id,
                    raw=inbound.raw,
                )
            )
        stored, duplicate = await self._insert_messages(messages)
        by_id = {c.id: c for c in conversations.values()}
        results = []
        for message, dup in zip(stored, duplicate, strict=True):
            owner = by_id.get(message.conversation_id)
            if owner is None:  # a duplicate of a message in an older conversation
                owner = await self.store.get_conversation(message.conversation_id)
                if owner is None:
                    raise RuntimeError(f"conversation {message.conversation_id} vanished")
            results.append(Stored(message, owner, owner.id in created and not dup, dup))
        return results

    async def _resolve_contacts(
        self, items: Sequence[InboundMessage]
    ) -> tuple[dict[str, Document], set[str]]:
        """Contacts by identity key, and the keys whose contact this batch created: one read
        for the known, one bulk upsert for the rest (read again only after a race)."""
        wanted = {identity_key(i.channel, i.sender_id): i for i in items}
        found = await self._contacts_by_key(list(wanted))
        ops: list[UpdateOne] = []
        written: list[tuple[str, Document]] = []  # per op: its key and the document it makes
        for key, inbound in wanted.items():
            doc = found.get(key)
            if doc is not None and (
                not inbound.sender_name or doc.get("name") == inbound.sender_name
            ):
                continue
            contact_id = new_id()
            on_insert: Document = {
                "_id": contact_id,
                "created_at": _stored_time(),
                **born("contact.created", f"evt_contact_{contact_id}"),
                "identities": [
                    {
                        "channel": inbound.channel,
                        "external_id": inbound.sender_id,
                        "handle": inbound.sender_handle,
                        "reachable": True,
                    }
                ],
                "identity_keys": [key],
                "email": None,
            }
            update: Document = {"$setOnInsert": on_insert}
            if inbound.sender_name:
                update["$set"] = {"name": inbound.sender_name}
            else:
                on_insert["name"] = ""
            ops.append(UpdateOne({"identity_keys": key}, update, upsert=True))
            named = {"name": inbound.sender_name} if inbound.sender_name else {}
            written.append((key, {**on_insert, **named} if doc is None else {**doc, **named}))
        created: set[str] = set()
        if ops:
            upserted = await _bulk_tolerating_races(self.store.contacts, ops)
            for index, (key, doc) in enumerate(written):
                if index in upserted:  # this batch created it, as written
                    created.add(key)
                    found[key] = doc
                elif key in found:  # renamed
                    found[key] = doc
            if len(found) < len(wanted):  # another writer created some first: read them
                found = {**await self._contacts_by_key(list(wanted)), **found}
                ours = {key: doc["_id"] for key, doc in written}
                created |= {key for key, doc in found.items() if ours.get(key) == doc["_id"]}
        return found, created

    def _guess_open_keys(self, items: Sequence[InboundMessage]) -> dict[str, str]:
        """Open keys by identity key, for the senders whose contact id was seen before."""
        guessed: dict[str, str] = {}
        for inbound in items:
            ident = identity_key(inbound.channel, inbound.sender_id)
            contact_id = self._contact_ids.get(ident)
            if contact_id is not None:
                guessed[ident] = open_key(contact_id, inbound.channel, inbound.thread_key)
        return guessed

    def _remember_contacts(self, contacts: dict[str, Document]) -> None:
        for ident, doc in contacts.items():
            self._contact_ids[ident] = doc["_id"]
            self._contact_ids.move_to_end(ident)
        while len(self._contact_ids) > CONTACTS_REMEMBERED:
            self._contact_ids.popitem(last=False)

    async def _contacts_by_key(self, keys: list[str]) -> dict[str, Document]:
        docs = await self.store.contacts.find({"identity_keys": {"$in": keys}}).to_list()
        wanted = set(keys)
        return {key: doc for doc in docs for key in doc["identity_keys"] if key in wanted}

    async def _resolve_conversations(
        self,
        items: Sequence[InboundMessage],
        contacts: dict[str, Document],
        new_contacts: set[str],
        early: tuple[set[str], dict[str, Conversation]] = (set(), {}),
    ) -> tuple[dict[str, Conversation], set[str]]:
        """Active conversations by open key, opening the missing ones in one bulk upsert.

        A contact created by this batch has no resolved conversation to reopen, and a
        conversation this batch inserted is known as written: neither is read again."""
        wanted: dict[str, tuple[str, InboundMessage]] = {}
        for inbound in items:
            contact_id = contacts[identity_key(inbound.channel, inbound.sender_id)]["_id"]
            wanted.setdefault(
                open_key(contact_id, inbound.channel, inbound.thread_key), (contact_id, inbound)
            )
        known, read_early = early
        found = {key: read_early[key] for key in wanted if key in known and key in read_early}
        unread = [key for key in wanted if key not in known]
        if unread:
            found.update(await self._conversations_by_key(unread))
        if self.before_open is not None and len(found) < len(wanted):
            reopened = False
            for key, (_, inbound) in wanted.items():
                contact_key = identity_key(inbound.channel, inbound.sender_id)
                if key not in found and contact_key not in new_contacts:
                    contact = contact_from_doc(contacts[contact_key])
                    reopened = await self.before_open(contact, inbound) or reopened
            if reopened:
                found = await self._conversations_by_key(list(wanted))
        fresh: dict[str, Document] = {}
        now = _stored_time()
        for key, (contact_id, inbound) in wanted.items():
            if key in found:
                continue
            conversation_id = new_id()
            fresh[key] = {
                "_id": conversation_id,
                "contact_id": contact_id,
                "channel": inbound.channel,
                "thread_key": inbound.thread_key,
                "recipient_id": inbound.sender_id,
                "status": "bot",
                "assignee": None,
                "labels": [],
                "route": dict(inbound.route),
                "created_at": now,
                "updated_at": now,
                "last_message_at": now,
                **born("conversation.created", f"evt_conversation_{conversation_id}"),
            }
        created: set[str] = set()
        if fresh:
            ops = [
                UpdateOne({"open_key": key}, {"$setOnInsert": doc}, upsert=True)
                for key, doc in fresh.items()
            ]
            upserted = await _bulk_tolerating_races(self.store.conversations, ops)
            for index, (key, doc) in enumerate(fresh.items()):
                if index in upserted:
                    found[key] = self.store.conversation_seen({**doc, "open_key": key})
                    created.add(found[key].id)
            if len(found) < len(wanted):  # another writer opened some first: read them
                found = {**await self._conversations_by_key(list(wanted)), **found}
                created |= {
                    c.id for key, c in found.items() if key in fresh and fresh[key]["_id"] == c.id
                }
        missing = set(wanted) - set(found)
        if missing:
            raise RuntimeError(f"{len(missing)} conversations closed while messages arrived")
        return found, created

    async def _conversations_by_key(self, keys: list[str]) -> dict[str, Conversation]:
        docs = await self.store.conversations.find({"open_key": {"$in": keys}}).to_list()
        return {doc["open_key"]: self.store.conversation_seen(doc) for doc in docs}

    async def _insert_messages(self, messages: list[Message]) -> tuple[list[Message], list[bool]]:
        # One ordered insert_many numbers the batch; a duplicate or a lost race for a seq
        # costs a lookup and one more insert of the rest (storage/sequence.py).
        return await self.store.sequence.insert(messages)

    def note_activity(self, messages: Sequence[Message]) -> None:
        """Raise the conversations' recency for stored messages soon, in one bulk update."""
        for message in messages:
            at, seq = message.created_at, message.seq or 0
            current = self._touches.get(message.conversation_id)
            self._touches[message.conversation_id] = (
                (at, seq) if current is None else (max(at, current[0]), max(seq, current[1]))
            )
        if self._touches and (self._toucher is None or self._toucher.done()):
            self._toucher = asyncio.get_running_loop().create_task(self._flush_touches_later())

    async def _flush_touches_later(self) -> None:
        # Conversation recency is derived data: it is refreshed off the ack path, a burst
        # of messages in one conversation costs one update, and a crash in between only
        # leaves last_message_at up to ``touch_interval`` behind.
        await asyncio.sleep(self.touch_interval)
        await self.flush_touches()

    async def flush_touches(self) -> None:
        latest, self._touches = self._touches, {}
        if not latest:
            return
        now = utcnow()
        try:
            await self.store.conversations.bulk_write(
                [
                    UpdateOne(
                        {"_id": cid},
                        {"$max": {"last_message_at": at, "updated_at": now, "last_seq": seq}},
                    )
                    for cid, (at, seq) in latest.items()
                ],
                ordered=False,
            )
        except Exception:
            log.exception("could not refresh conversations' last_message_at")
            for cid, (at, seq) in latest.items():  # try again with the next flush
                at0, seq0 = self._touches.get(cid, (at, seq))
                self._touches[cid] = (max(at, at0), max(seq, seq0))


async def _bulk_tolerating_races(collection: Any, ops: list[UpdateOne]) -> dict[int, Any]:
    """Run upserts; returns the ids they inserted, by op index. A duplicate key means
    another writer created the document first; then none is known as inserted here and
    the caller reads them all."""
    if not ops:
        return {}
    try:
        result = await collection.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        return {}
    return dict(result.upserted_ids)


def _stored_time() -> datetime:
    """Now, at the millisecond precision MongoDB stores, so a document known as written
    equals the one read back."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
