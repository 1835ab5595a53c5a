"""Update descriptions the real server reports, replayed in memory, give the document the
server stored."""

from __future__ import annotations

from typing import Any

import pytest

from storage.mongo import MongoStore
from storage.update_replay import NotReplayable, apply_update

UPDATES: list[dict[str, Any]] = [
    {"$set": {"a.b": 5, "new": "n"}, "$unset": {"gone": ""}},
    {"$set": {"l.1": 20}},
    {"$push": {"l": 9}},
    {"$pop": {"l": 1}, "$inc": {"n": 2}},
    {"$pull": {"l": 20}},
    {"$set": {"a": {"fresh": [1, {"x": 2}]}}},
    {"$set": {"a.fresh.1.x": 3}, "$unset": {"a.missing": ""}},
]


async def test_each_reported_update_replays_to_the_stored_document(mongo: MongoStore) -> None:
    coll = mongo.collection("docs")
    start = {"_id": 1, "a": {"b": 1, "c": 2}, "l": [1, 2, 3, 4, {"x": 1}], "gone": True, "n": 0}
    await coll.insert_one(dict(start))
    async with await coll.watch() as stream:
        for update in UPDATES:
            await coll.update_one({"_id": 1}, update)
        replayed = start
        for _ in UPDATES:
            event = await anext(stream)
            replayed = apply_update(replayed, event["updateDescription"])
            # The stream reports no "after" here; the server's document is checked at the end.
    assert replayed == await coll.find_one({"_id": 1})


def test_a_description_that_does_not_fit_the_document_is_refused() -> None:
    with pytest.raises(NotReplayable):
        apply_update({"_id": 1, "l": 5}, {"updatedFields": {"l.3": 1}})
    with pytest.raises(NotReplayable):
        apply_update({"_id": 1, "l": {"a": 1}}, {"truncatedArrays": [{"field": "l", "newSize": 0}]})
