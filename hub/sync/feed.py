"""What a device reads to stay in step: ordered changes, a paged snapshot, digests.

Both roles see conversations and messages (private notes included: agents read those in
the inbox anyway); contacts, like ``GET /contacts/{id}``, are for admins only. Documents
travel as MongoDB Extended JSON (relaxed), which decodes back to the exact BSON values,
so a client can recompute every ``hash`` with ``storage.digest.document_hash``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bson import json_util

from hub.access.tokens import Role
from storage.changes import (
    CHANGE_CURSOR_PATTERN,
    INBOX_COLLECTIONS,
    Change,
    InvalidChangeCursor,
    decode_cursor,
    encode_cursor,
)
from storage.digest import document_hash
from storage.paging import ID_CURSOR_PATTERN
from storage.sync_feed import SyncFeedStore

Document = dict[str, Any]
_ROLE_COLLECTIONS: dict[str, tuple[str, ...]] = {
    "admin": INBOX_COLLECTIONS,
    "agent": ("conversations", "messages"),
    "viewer": ("conversations", "messages"),
}


def visible_collections(role: Role) -> tuple[str, ...]:
    return _ROLE_COLLECTIONS[role]


def extended_json(value: Any) -> Any:
    """``value`` as relaxed Extended JSON, ready for ``json.dumps``."""
    return json.loads(json_util.dumps(value, json_options=json_util.RELAXED_JSON_OPTIONS))


def change_json(change: Change) -> dict[str, Any]:
    return {
        "op": change.op,
        "collection": change.collection,
        "id": extended_json(change.id),
        "doc": extended_json(change.doc) if change.doc is not None else None,
        "hash": change.hash,
        "at": change.at.isoformat() if change.at else None,
    }


async def changes_page(
    store: SyncFeedStore, role: Role, cursor: str, limit: int, await_ms: int
) -> dict[str, Any]:
    """Up to ``limit`` changes after ``cursor``; raises ``CursorExpired`` when too old."""
    changes, token = await store.changes(
        decode_cursor(cursor),
        limit,
        collections=visible_collections(role),
        max_await_ms=await_ms,
    )
    return {
        "changes": [change_json(change) for change in changes],
        "cursor": encode_cursor(token),
        "has_more": len(changes) == limit,
    }


async def start_cursor(store: SyncFeedStore) -> str:
    """A change cursor at the database's current position."""
    return encode_cursor(await store.position())


# ``<collection>.<last id or nothing>.<change cursor>``: where the copy stands, and the
# change feed position taken before it began.
SNAPSHOT_CURSOR_PATTERN = (
    rf"^({'|'.join(INBOX_COLLECTIONS)})\.({ID_CURSOR_PATTERN[1:-1]})?\.{CHANGE_CURSOR_PATTERN[1:]}"
)


class HiddenCollection(Exception):
    """A snapshot cursor into a collection the caller's role may not read."""


def _encode_snapshot(state: dict[str, str]) -> str:
    return f"{state['collection']}.{state['after']}.{state['changes']}"


def _decode_snapshot(cursor: str, collections: tuple[str, ...]) -> dict[str, str]:
    if not re.fullmatch(SNAPSHOT_CURSOR_PATTERN, cursor):
        raise InvalidChangeCursor("cursor is not valid")
    collection, after, changes = cursor.split(".", 2)
    if collection not in collections:
        raise HiddenCollection(f"this role does not read {collection}")
    decode_cursor(changes)
    return {"changes": changes, "collection": collection, "after": after}


async def snapshot_page(
    store: SyncFeedStore, role: Role, cursor: str | None, limit: int
) -> dict[str, Any]:
    """One page of every visible document, by collection then ``_id``.

    The first page takes a change cursor *before* reading, and every page returns it as
    ``changes_cursor``: reading the feed from there after the last page replays whatever
    changed during the copy, so the device ends up exact.
    """
    collections = visible_collections(role)
    if cursor is None:
        state = {"changes": await start_cursor(store), "collection": collections[0], "after": ""}
    else:
        state = _decode_snapshot(cursor, collections)
    items: list[dict[str, Any]] = []
    index = collections.index(state["collection"])
    after: str | None = state["after"] or None
    while len(items) < limit and index < len(collections):
        name = collections[index]
        wanted = limit - len(items)
        docs = await store.documents_after(name, after, wanted)
        items.extend(
            {
                "collection": name,
                "id": extended_json(doc["_id"]),
                "doc": extended_json(doc),
                "hash": document_hash(doc),
            }
            for doc in docs
            if not doc.get("erased")  # erasure's tombstones are not a device's to keep
        )
        if len(docs) < wanted:
            index, after = index + 1, None
        else:
            after = docs[-1]["_id"]
    done = index >= len(collections)
    next_cursor = None
    if not done:
        next_cursor = _encode_snapshot(
            {"changes": state["changes"], "collection": collections[index], "after": after or ""}
        )
    return {"items": items, "next_cursor": next_cursor, "changes_cursor": state["changes"]}
