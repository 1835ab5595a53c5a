"""Ordered changes of the inbox, read from MongoDB change streams by resume token.

A change stream's resume token marks a position in the database's oplog; reading from a
token returns every later insert, update, replace and delete, in commit order, however
many hub instances wrote them. Tokens stay usable as long as the oplog retains their
position (size- and time-bound on a replica set); an older token fails with
``ChangeStreamHistoryLost`` (code 286), surfaced here as ``CursorExpired``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from storage.digest import document_hash
from storage.webhook_journal import is_bookkeeping, without_bookkeeping

Document = dict[str, Any]
ResumeToken = Mapping[str, Any]

INBOX_COLLECTIONS: tuple[str, ...] = ("contacts", "conversations", "messages")
CHANGE_OPERATIONS = ("insert", "update", "replace", "delete")
HISTORY_LOST = 286  # ChangeStreamHistoryLost
_CURSOR_PREFIX = "c1."
_HEX = re.compile(r"^[0-9A-Fa-f]{2,4096}$")
CHANGE_CURSOR_PATTERN = r"^c1\.[0-9A-Fa-f]{2,4096}$"
"""A change cursor: ``c1.`` and the hex of the database's resume token."""


class CursorExpired(Exception):
    """The cursor's position is no longer in the oplog: the client must resync."""


class InvalidChangeCursor(ValueError):
    """A change cursor this database did not issue."""


def encode_cursor(token: ResumeToken) -> str:
    """An opaque, URL-safe cursor wrapping a resume token."""
    return _CURSOR_PREFIX + str(token["_data"])


def decode_cursor(cursor: str) -> dict[str, str]:
    if not cursor.startswith(_CURSOR_PREFIX) or not _HEX.match(cursor[len(_CURSOR_PREFIX) :]):
        raise InvalidChangeCursor("cursor is not valid")
    return {"_data": cursor[len(_CURSOR_PREFIX) :]}


@dataclass(frozen=True, slots=True)
class Change:
    """One document's new state (``upsert``, with its hash) or its removal (``delete``)."""

    op: Literal["upsert", "delete"]
    collection: str
    id: Any
    doc: Document | None
    hash: str | None
    at: datetime | None


def change_from_event(event: Mapping[str, Any]) -> Change:
    """A change-stream event as the document's state after it.

    Updates carry the document as it is when read (``updateLookup``); if it has been
    deleted since, the change is a delete, which the later delete event repeats harmlessly.
    A tombstone left by erasure (``erased`` set) is a delete too.
    """
    collection = event["ns"]["coll"]
    doc_id = event["documentKey"]["_id"]
    at = event.get("wallTime")
    doc = event.get("fullDocument") if event["operationType"] != "delete" else None
    if doc is None or doc.get("erased"):  # an erased person's tombstone: gone for devices
        return Change("delete", collection, doc_id, None, None, at)
    doc = without_bookkeeping(doc)
    return Change("upsert", collection, doc_id, doc, document_hash(doc), at)


def inbox_pipeline(collections: Sequence[str]) -> list[Document]:
    return [
        {
            "$match": {
                "ns.coll": {"$in": list(collections)},
                "operationType": {"$in": list(CHANGE_OPERATIONS)},
            }
        }
    ]


async def open_stream(
    db: AsyncDatabase[Document],
    pipeline: Sequence[Mapping[str, Any]],
    token: ResumeToken | None,
    *,
    batch_size: int = 100,
    max_await_ms: int = 200,
) -> AsyncChangeStream[Document]:
    """Open a change stream on ``db`` after ``token`` (or at the current position)."""
    try:
        return await db.watch(
            list(pipeline),
            full_document="updateLookup",
            resume_after=dict(token) if token else None,
            batch_size=batch_size,
            max_await_time_ms=max_await_ms,
        )
    except OperationFailure as exc:
        expired = refused_position(exc, token)
        if expired is not None:
            raise expired from exc
        raise


def refused_position(exc: OperationFailure, token: ResumeToken | None) -> CursorExpired | None:
    """``CursorExpired`` when opening a stream failed because of the position asked for."""
    if exc.code == HISTORY_LOST:
        return CursorExpired(str(exc))
    if token is not None:
        # A well-formed position this database cannot resume from (another database's,
        # or made up): as with an expired one, the reader starts again from now.
        return CursorExpired("the database cannot resume from this cursor")
    return None


async def current_token(db: AsyncDatabase[Document]) -> dict[str, Any]:
    """A resume token for the database's current position (nothing before it is returned)."""
    stream = await open_stream(db, inbox_pipeline(INBOX_COLLECTIONS), None, max_await_ms=1)
    try:
        token = stream.resume_token
        assert token is not None, "the server returned no postBatchResumeToken"
        return dict(token)
    finally:
        await stream.close()


async def read_changes(
    db: AsyncDatabase[Document],
    token: ResumeToken,
    limit: int,
    *,
    collections: Sequence[str] = INBOX_COLLECTIONS,
    max_await_ms: int = 100,
) -> tuple[list[Change], dict[str, Any]]:
    """Up to ``limit`` changes after ``token``, and the token to continue from."""
    stream = await open_stream(
        db, inbox_pipeline(collections), token, batch_size=limit, max_await_ms=max_await_ms
    )
    changes: list[Change] = []
    try:
        while len(changes) < limit:
            event = await stream.try_next()
            if event is None:
                break
            if is_bookkeeping(event):  # a webhook event settled: no data changed
                continue
            changes.append(change_from_event(event))
        after = stream.resume_token
    finally:
        await stream.close()
    return changes, dict(after) if after is not None else dict(token)
