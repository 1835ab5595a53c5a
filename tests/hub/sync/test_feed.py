"""The device change feed: paging, resuming, roles, hashes, expiry and the snapshot."""

from __future__ import annotations

from typing import Any

from bson import json_util

from hub.config.model import ChorusConfig
from hub.state import HUB, MONGO
from storage.digest import digest_of, document_hash
from storage.webhook_journal import without_bookkeeping
from tests.helpers.hub import bearer, wait_for
from tests.helpers.sync import Client, customer_says


async def _changes(client: Client, since: str, limit: int = 100, role: str = "admin") -> Any:
    resp = await client.get(
        "/api/v1/sync/changes",
        params={"since": since, "limit": str(limit)},
        headers=bearer(client, role=role),
    )
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _start(client: Client) -> str:
    resp = await client.get("/api/v1/sync/changes", headers=bearer(client, role="admin"))
    assert resp.status == 200
    body = await resp.json()
    assert body["changes"] == []
    return str(body["cursor"])


async def _drain(client: Client, cursor: str, limit: int, role: str = "admin") -> tuple[list, str]:
    changes: list[dict[str, Any]] = []
    while True:
        page = await _changes(client, cursor, limit, role)
        changes.extend(page["changes"])
        cursor = page["cursor"]
        if not page["changes"]:
            return changes, cursor


async def test_feed_pages_in_order_and_resumes_from_each_cursor(client, db) -> None:
    cursor = await _start(client)
    for n in range(5):
        await customer_says(client, "ada", f"message {n}")

    first = await _changes(client, cursor, limit=4)
    assert len(first["changes"]) == 4 and first["has_more"] is True
    rest, end = await _drain(client, first["cursor"], limit=4)
    changes = first["changes"] + rest
    texts = [c["doc"]["text"] for c in changes if c["collection"] == "messages"]
    assert texts == [f"message {n}" for n in range(5)]
    assert {c["collection"] for c in changes} == {"contacts", "conversations", "messages"}

    # Reading again from an old cursor returns the same changes: cursors are positions.
    again, _ = await _drain(client, first["cursor"], limit=50)
    assert [c["id"] for c in again] == [c["id"] for c in rest]

    await customer_says(client, "ada", "later")
    later, _ = await _drain(client, end, limit=10)
    assert [c["doc"]["text"] for c in later if c["collection"] == "messages"] == ["later"]


async def test_every_change_carries_the_hash_of_its_document(client, db) -> None:
    cursor = await _start(client)
    result = await customer_says(client, "bo", "hash me")
    changes, _ = await _drain(client, cursor, limit=50)
    by_id = {(c["collection"], c["id"]): c for c in changes}
    stored = await db.messages.find_one({"_id": result.message.id})
    message_change = by_id[("messages", result.message.id)]
    # The feed leaves out the webhook bookkeeping (owed events), so the hash does too.
    assert message_change["hash"] == document_hash(without_bookkeeping(stored))
    # The device can recompute the hash from the Extended JSON it received.
    decoded = json_util.loads(json_util.dumps(message_change["doc"]))
    assert document_hash(decoded) == message_change["hash"]


async def test_deletes_and_updates_are_changes(client, db) -> None:
    result = await customer_says(client, "cy", "to be removed")
    cursor = await _start(client)
    resp = await client.patch(
        f"/api/v1/conversations/{result.conversation.id}",
        json={"status": "open", "assignee": "alice"},
        headers=bearer(client),
    )
    assert resp.status == 200
    await db.messages.delete_one({"_id": result.message.id})
    changes, _ = await _drain(client, cursor, limit=10)
    assert [(c["op"], c["collection"]) for c in changes] == [
        ("upsert", "conversations"),
        ("delete", "messages"),
    ]
    assert changes[0]["doc"]["assignee"] == "alice"
    assert changes[1]["id"] == result.message.id and changes[1]["doc"] is None


async def test_agents_do_not_receive_contacts(client, db) -> None:
    cursor = await _start(client)
    await customer_says(client, "di", "hello")
    agent_changes, _ = await _drain(client, cursor, limit=50, role="agent")
    admin_changes, _ = await _drain(client, cursor, limit=50, role="admin")
    assert {c["collection"] for c in agent_changes} == {"conversations", "messages"}
    assert "contacts" in {c["collection"] for c in admin_changes}


async def test_bad_cursor_and_limits_are_refused(client) -> None:
    for params, code in [
        ({"since": "nonsense"}, "invalid_request"),  # not the documented pattern
        ({"since": "c1.zz"}, "invalid_request"),
        ({"since": "c1.00", "limit": "0"}, "invalid_request"),
        ({"since": "c1.00", "limit": "100000"}, "invalid_request"),
        ({"since": "c1.00", "extra": "1"}, "invalid_request"),
    ]:
        resp = await client.get("/api/v1/sync/changes", params=params, headers=bearer(client))
        assert resp.status == 400, params
        assert (await resp.json())["error"]["code"] == code
    resp = await client.get("/api/v1/sync/changes")
    assert resp.status == 401


async def test_snapshot_pages_everything_then_the_feed_continues(client, db) -> None:
    for n in range(3):
        await customer_says(client, f"visitor{n}", f"hi {n}")
    items: list[dict[str, Any]] = []
    cursor = None
    changes_cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        resp = await client.get(
            "/api/v1/sync/snapshot", params=params, headers=bearer(client, role="admin")
        )
        assert resp.status == 200
        page = await resp.json()
        items.extend(page["items"])
        changes_cursor = changes_cursor or page["changes_cursor"]
        assert page["changes_cursor"] == changes_cursor
        cursor = page["next_cursor"]
        if cursor is None:
            break
        if len(items) == 2:  # a write during the copy is replayed by the feed afterwards
            await customer_says(client, "visitor0", "during the snapshot")
    assert [i["collection"] for i in items].count("contacts") == 3
    assert [i["collection"] for i in items].count("conversations") == 3
    changes, _ = await _drain(client, changes_cursor, limit=50)
    replayed = [c["doc"]["text"] for c in changes if c["collection"] == "messages"]
    assert "during the snapshot" in replayed

    resp = await client.get(
        "/api/v1/sync/snapshot", params={"cursor": "bm9wZQ"}, headers=bearer(client)
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_request"


async def test_conversation_digest_matches_what_the_device_holds(client, db) -> None:
    cursor = await _start(client)
    first = await customer_says(client, "eve", "one")
    await customer_says(client, "eve", "two")
    resp = await client.post(
        f"/api/v1/conversations/{first.conversation.id}/messages",
        json={"text": "an answer"},
        headers=bearer(client),
    )
    reply_id = (await resp.json())["id"]

    async def sent() -> bool:
        doc = await db.messages.find_one({"_id": reply_id})
        return doc["delivery"]["status"] == "sent"

    # Let the inbox fall quiet: the reply delivered, conversation recency refreshed.
    await wait_for(sent)
    await client.app[HUB].writer.settle()
    changes, _ = await _drain(client, cursor, limit=50)
    held: dict[str, str] = {}
    for change in changes:
        doc = change["doc"]
        in_conversation = change["id"] == first.conversation.id or (
            doc is not None and doc.get("conversation_id") == first.conversation.id
        )
        if change["collection"] in ("conversations", "messages") and in_conversation:
            held[change["id"]] = change["hash"]
    # The outbox marks the reply sent meanwhile: the device applies those changes too.
    resp = await client.get(
        "/api/v1/sync/digest",
        params={"conversation": first.conversation.id},
        headers=bearer(client),
    )
    body = await resp.json()
    assert resp.status == 200 and body["count"] == 4
    late, _ = await _drain(client, cursor, limit=200)
    for change in late:
        if change["id"] in held:
            held[change["id"]] = change["hash"]
    assert digest_of(held).sha256 == body["sha256"]

    resp = await client.get(
        "/api/v1/sync/digest", params={"conversation": "nope"}, headers=bearer(client)
    )
    assert resp.status == 404


async def test_a_cursor_older_than_the_history_gets_410_and_resyncs(
    make_client, config: ChorusConfig, short_history_server, db_name
) -> None:
    short = config.model_copy(deep=True)
    short.mongo.uri = short_history_server.uri
    client = await make_client(short)
    cursor = await _start(client)
    for n in range(40):
        await customer_says(client, "fay", f"flood {n}")
    # The server trims its oplog every thousand writes; ask it to trim now (to its
    # 20-entry cap) rather than writing a thousand messages.
    await client.app[MONGO].client.admin.command("secantusAdmin.pruneOplog")
    resp = await client.get(
        "/api/v1/sync/changes", params={"since": cursor}, headers=bearer(client)
    )
    assert resp.status == 410
    error = (await resp.json())["error"]
    assert error["code"] == "cursor_expired" and "/api/v1/sync/snapshot" in error["message"]

    resp = await client.get(
        "/api/v1/sync/snapshot", params={"limit": "500"}, headers=bearer(client)
    )
    page = await resp.json()
    assert sum(1 for i in page["items"] if i["collection"] == "messages") == 40
    assert (await _changes(client, page["changes_cursor"]))["changes"] == []
