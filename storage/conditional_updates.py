"""Conversation changes made from an event's conversation, written in bulk.

A handoff knows the conversation from the event it reacts to; its change must apply only if
the stored status and assignee are still those (an agent's claim made meanwhile wins).
Concurrent such changes share one unordered bulk update whose filters carry that
condition, instead of one ``findAndModify`` each, and each caller's result is computed
from the conversation it brought, so nothing is read back.

A bulk update says how many of its updates matched, not which: each update also writes
its own ``write_id``, so when fewer matched than were sent, one read of those
conversations tells the applied (their ``write_id`` is the one written) from the others.
Each caller is answered once the bulk holding its change returned; a write error (an
active conversation already holding the thread) goes to its own caller only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.domain import Conversation, new_id, utcnow
from storage.errors import StorageBoundary
from storage.group_commit import GroupCommit
from storage.inbox import InboxStore, conversation_update
from storage.mongo import Document
from storage.webhook_journal import with_owed

DUPLICATE_KEY = 11000
WRITE_ID = "write_id"
_FIELDS = set(Conversation.model_fields)


class ActiveConversationExists(ValueError):
    """The change would make a second active conversation in the contact's thread."""


@dataclass(frozen=True, slots=True)
class _Change:
    current: Conversation
    changes: Mapping[str, Any]
    expect: Mapping[str, Any]
    events: Sequence[Document]
    write_id: str = field(default_factory=new_id)


Outcome = Conversation | None | ActiveConversationExists


class ConditionalUpdates(StorageBoundary):
    """Conditional conversation changes of concurrent callers, in shared bulk updates."""

    def __init__(self, store: InboxStore, max_batch: int = 256) -> None:
        self.store = store
        self._writer: GroupCommit[_Change, Outcome] = GroupCommit(
            self._write, max_batch=max_batch, name="conditional updates"
        )

    @property
    def batches(self) -> int:
        return self._writer.batches

    async def apply(
        self,
        current: Conversation,
        changes: Mapping[str, Any],
        expect: Mapping[str, Any],
        events: Sequence[Document] = (),
    ) -> Conversation | None:
        """Apply ``changes`` if the stored fields still have the values in ``expect``;
        the conversation after the change (``current`` with it), or None if it did not
        apply. ``events`` are the webhook events the change owes, written with it."""
        outcome = await self._writer.submit(_Change(current, changes, dict(expect), events))
        if isinstance(outcome, ActiveConversationExists):
            raise outcome
        return outcome

    async def close(self) -> None:
        await self._writer.close()

    async def _write(self, batch: Sequence[_Change]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        # A conversation changed twice in one batch: the later change waits for the
        # earlier one's bulk, so its condition sees what the earlier one did.
        rounds: list[list[int]] = []
        for index, change in enumerate(batch):
            seen = sum(1 for earlier in batch[:index] if earlier.current.id == change.current.id)
            if seen == len(rounds):
                rounds.append([])
            rounds[seen].append(index)
        for indexes in rounds:
            outcomes.update(await self._write_round([batch[i] for i in indexes], indexes))
        return [outcomes[i] for i in range(len(batch))]

    async def _write_round(
        self, changes: Sequence[_Change], indexes: Sequence[int]
    ) -> dict[int, Outcome]:
        now = _stored_time()
        ops = [
            UpdateOne(
                {**change.expect, "_id": change.current.id},
                with_owed(_with_write_id(change, now), change.events),
            )
            for change in changes
        ]
        failed: dict[int, ActiveConversationExists] = {}
        try:
            result = await self.store.conversations.bulk_write(ops, ordered=False)
            matched = result.matched_count
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            for error in errors:
                failed[error["index"]] = ActiveConversationExists(
                    "the contact already has another active conversation there"
                )
            matched = exc.details.get("nMatched", 0)
        pending = [n for n in range(len(changes)) if n not in failed]
        applied = set(pending)
        if matched < len(pending):  # some conditions failed: which is in the documents
            ids = [changes[n].current.id for n in pending]
            docs = await self.store.conversations.find(
                {"_id": {"$in": ids}}, {WRITE_ID: 1}
            ).to_list()
            written = {doc["_id"]: doc.get(WRITE_ID) for doc in docs}
            applied = {
                n for n in pending if written.get(changes[n].current.id) == changes[n].write_id
            }
        outcomes: dict[int, Outcome] = {}
        for n, change in enumerate(changes):
            if n in failed:
                outcomes[indexes[n]] = failed[n]
            elif n in applied:
                outcomes[indexes[n]] = _after(change, now)
            else:
                outcomes[indexes[n]] = None
        return outcomes


def _with_write_id(change: _Change, now: datetime) -> Document:
    update = conversation_update(change.changes, now, change.current)
    update["$set"][WRITE_ID] = change.write_id
    return update


def _after(change: _Change, now: datetime) -> Conversation:
    """The conversation as the change left it: what it brought, with the change."""
    known = {k: v for k, v in change.changes.items() if k in _FIELDS}
    return change.current.model_copy(update={**known, "updated_at": now})


def _stored_time() -> datetime:
    """Now at the millisecond precision MongoDB stores, so a result computed here equals
    the conversation read back."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
