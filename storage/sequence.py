"""Per-conversation sequence numbers that follow commit order, allocated by the insert itself.

A message's ``seq`` is chosen as "the highest seq known to be stored in its conversation,
plus one", and the unique index on ``(conversation_id, seq)`` refuses a number another
writer (task or hub instance) took first; the loser learns the stored top and tries the
next one. So a message can only be stored as ``n`` once ``n - 1`` is stored: within a
conversation, seqs are dense and their order is the order writers committed in. No number
is ever handed out without a stored message (nothing to wait for, no hole a crashed
writer could leave), and "seq ≤ n" means "everything committed before n".

A guess must never exceed the stored top plus one, so the cache only ever holds numbers
seen stored (this process's inserts, reads, and the conversation's ``last_seq`` hint,
which is raised only after a commit).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, PyMongoError

from hub.domain import HistoryPage, Message, utcnow
from storage.errors import StorageBoundary
from storage.message_docs import message_from_doc, message_to_doc
from storage.webhook_interest import WebhookInterest
from storage.webhook_journal import OWED, OWED_AT, born, owed

log = logging.getLogger(__name__)
CREATED = "message.created"

DUPLICATE_KEY = 11000
# Range reads are bounded: the embedded server reads every match of an open range first.
WINDOW = 256
# Losing this many races in a row for one batch means something else is wrong.
MAX_COLLISIONS = 64


class MessageSequence(StorageBoundary):
    """Inserts messages with their conversation's next seqs, and reads seq ranges back."""

    def __init__(self, messages: Any, cache_size: int = 10_000) -> None:
        self.messages = messages
        self._cache_size = cache_size
        self._top: OrderedDict[str, int] = OrderedDict()
        # Whether inserts owe ``message.created`` (storage/webhook_interest.py); without
        # it, every one does.
        self.interest: WebhookInterest | None = None

    def observe(self, conversation_id: str, seq: int | None) -> None:
        """Record that ``seq`` is stored in the conversation (a lower bound of its top)."""
        if not seq:
            return
        self._top[conversation_id] = max(seq, self._top.get(conversation_id, 0))
        self._top.move_to_end(conversation_id)
        while len(self._top) > self._cache_size:
            self._top.popitem(last=False)

    async def insert(self, messages: Sequence[Message]) -> tuple[list[Message], list[bool]]:
        """Store ``messages`` in order, each with the next seq of its conversation.

        Returns the stored messages (for a duplicate external id, the one stored before)
        and which were duplicates. Inserts are ordered, so a refused message never leaves
        a later one of its conversation stored past a number nobody holds.
        """
        stored: list[Message | None] = [None] * len(messages)
        duplicate = [False] * len(messages)
        pending = list(range(len(messages)))
        collisions = 0
        owes_created = self.interest is None or self.interest.wanted(CREATED)
        while pending:
            docs = self._numbered([messages[i] for i in pending], owes_created)
            try:
                await self.messages.insert_many([doc for doc, _ in docs], ordered=True)
                failed = len(docs)
            except BulkWriteError as exc:
                error = exc.details["writeErrors"][0]
                failed = error["index"]
                if error.get("code") != DUPLICATE_KEY:
                    self._note_stored([m for _, m in docs[:failed]])
                    raise
            for (_, message), index in zip(docs[:failed], pending, strict=False):
                stored[index] = message
            self._note_stored([m for _, m in docs[:failed]])
            if failed == len(docs):
                break
            refused = docs[failed][1]
            original = await self.messages.find_one(
                {"channel": refused.channel, "external_id": refused.external_id}
            )
            if original is not None:
                stored[pending[failed]] = message_from_doc(original)
                duplicate[pending[failed]] = True
                pending = pending[failed + 1 :]
            else:  # another writer took the number: learn the top and try the next
                collisions += 1
                if collisions > MAX_COLLISIONS:
                    raise RuntimeError("could not allocate a message sequence number")
                await self._learn_top(refused.conversation_id, refused.seq or 1)
                pending = pending[failed:]
        found = [m for m in stored if m is not None]
        if not owes_created and self.interest is not None:
            inserted = [m for m, dup in zip(found, duplicate, strict=True) if not dup]
            # Asked after the commit: an endpoint that was there before it counts.
            if inserted and await self.interest.wants(CREATED):
                await self._owe_created(inserted)
        return found, duplicate

    async def _owe_created(self, messages: Sequence[Message]) -> None:
        """Owe ``message.created`` on messages stored without it (once: the event's id)."""
        now = utcnow()
        updates = []
        for message in messages:
            entry = owed(CREATED, f"evt_message_{message.id}")
            updates.append(
                UpdateOne(
                    {"_id": message.id, f"{OWED}.id": {"$ne": entry["id"]}},
                    {"$push": {OWED: {"$each": [entry], "$position": 0}}, "$min": {OWED_AT: now}},
                )
            )
        try:
            await self.messages.bulk_write(updates, ordered=False)
        except PyMongoError:  # stored and acknowledged: the event is what is lost
            log.exception("could not owe message.created for %d stored messages", len(updates))

    async def between(self, conversation_id: str, after: int, before: int | None) -> list[Message]:
        """Stored messages of the conversation with ``after < seq < before``, in seq order,
        at most ``WINDOW`` of them (fewer means the conversation's end was reached)."""
        upper = after + WINDOW if before is None else min(before - 1, after + WINDOW)
        if upper <= after:
            return []
        # An exclusive upper bound: the embedded server's sorted scan of this index drops
        # the documents equal to an inclusive one ($lte).
        docs = (
            await self.messages.find(
                {"conversation_id": conversation_id, "seq": {"$gt": after, "$lt": upper + 1}}
            )
            .sort("seq", 1)
            .to_list()
        )
        found = [message_from_doc(doc) for doc in docs]
        if found:
            self.observe(conversation_id, found[-1].seq)
        return found

    def _numbered(
        self, messages: Sequence[Message], owes_created: bool
    ) -> list[tuple[dict[str, Any], Message]]:
        nxt: dict[str, int] = {}
        out = []
        for message in messages:
            cid = message.conversation_id
            seq = nxt.get(cid, self._top.get(cid, 0) + 1)
            nxt[cid] = seq + 1
            numbered = message.model_copy(update={"seq": seq})
            doc = message_to_doc(numbered)
            if owes_created:
                # The insert itself owes the event (storage/webhook_journal.py).
                doc |= born(CREATED, f"evt_message_{message.id}")
            out.append((doc, numbered))
        return out

    def _note_stored(self, messages: Sequence[Message]) -> None:
        for message in messages:
            self.observe(message.conversation_id, message.seq)

    async def _learn_top(self, conversation_id: str, taken: int) -> None:
        """``taken`` is stored; walk bounded windows up from it to the conversation's top."""
        self.observe(conversation_id, taken)
        while True:
            top = self._top.get(conversation_id, taken)
            found = await self.between(conversation_id, top, None)
            if len(found) < WINDOW:
                return


async def page_after(
    sequence: MessageSequence, conversations: Sequence[tuple[str, int]], limit: int
) -> HistoryPage:
    """Visible messages after each ``(conversation, seq)`` in turn, ``limit`` at most."""
    messages: list[Message] = []
    positions: dict[str, int] = {}
    for conversation_id, after in conversations:
        position = after
        while True:
            found = await sequence.between(conversation_id, position, None)
            for message in found:
                if len(messages) == limit:
                    positions[conversation_id] = position
                    return HistoryPage(messages, positions, more=True)
                position = message.seq or position
                if not message.private:
                    messages.append(message)
            if len(found) < WINDOW:
                break
        positions[conversation_id] = position
    return HistoryPage(messages, positions, more=False)
