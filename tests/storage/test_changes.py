"""Replaying change records the way MongoDB 7 describes updates, on the real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from storage.change_capture import apply_changes
from storage.mongo import MongoStore


async def records(*items: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    for item in items:
        yield item


async def test_updates_with_dotted_paths_truncation_and_removals_replay_exactly(
    mongo: MongoStore,
) -> None:
    coll = mongo.collection("docs")
    await coll.insert_one(
        {"_id": 1, "a": {"b": 1, "c": 2}, "l": [1, 2, 3, 4, {"x": 1}], "gone": True}
    )
    update = {
        "updatedFields": {"a.b": 5, "l.1": 20, "new": "n"},
        "removedFields": ["gone", "a.c"],
        "truncatedArrays": [{"field": "l", "newSize": 3}],
    }

    applied = await apply_changes(
        mongo.db,
        records(
            {"w": None, "c": "docs", "op": "update", "k": 1, "u": update},
            {"w": None, "c": "docs", "op": "insert", "k": 2, "d": {"_id": 2, "v": 1}},
            {
                "w": None,
                "c": "docs",
                "op": "insert",
                "k": 2,
                "d": {"_id": 2, "v": 1},
            },  # replayed twice
            {"w": None, "c": "other", "op": "insert", "k": "x", "d": {"_id": "x"}},
            {"w": None, "c": "other", "op": "drop"},
        ),
    )

    assert applied == 5
    assert await coll.find({}, sort=[("_id", 1)]).to_list() == [
        {"_id": 1, "a": {"b": 5}, "l": [1, 20, 3], "new": "n"},
        {"_id": 2, "v": 1},
    ]
    assert "other" not in await mongo.db.list_collection_names()
