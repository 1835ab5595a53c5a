"""The web chat channel end to end: customer socket → inbox → API → agent reply → socket."""

from __future__ import annotations

import json

from hub.core.outbox import outbound_for
from hub.domain import Message, new_id
from hub.state import ADAPTERS, HUB
from tests.helpers.hub import bearer
from tests.helpers.web_chat import next_frame


async def test_plain_text_frame_is_stored_and_acknowledged(client, db) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_str("Hello, world!")
        welcome = await next_frame(ws)
        assert welcome["type"] == "welcome" and welcome["visitor_token"]
        ack = await next_frame(ws)
        assert ack["type"] == "ack"
    stored = await db.messages.find_one({"_id": ack["id"]})
    assert stored["text"] == "Hello, world!"
    assert stored["direction"] == "inbound" and stored["channel"] == "web"


async def test_round_trip_customer_to_agent_and_back(client, db) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "name": "Ada"})
        await next_frame(ws, "welcome")
        await ws.send_json({"type": "message", "text": "Where is my order?", "client_id": "m1"})
        ack = await next_frame(ws, "ack")
        assert ack["client_id"] == "m1"

        resp = await client.get("/api/v1/messages?channel=web", headers=bearer(client))
        assert resp.status == 200
        page = await resp.json()
        assert [m["text"] for m in page["items"]] == ["Where is my order?"]
        item = page["items"][0]
        assert {
            "id",
            "conversation_id",
            "channel",
            "direction",
            "author",
            "text",
            "created_at",
        } <= set(item)
        assert item["author"]["kind"] == "contact"

        conversation_id = item["conversation_id"]
        resp = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "It ships today."},
            headers=bearer(client, sub="agent-bo"),
        )
        assert resp.status == 201
        reply = await resp.json()
        # Web visitors read replies from the store: stored is delivered, no outbox round.
        assert reply["direction"] == "outbound" and reply["delivery"]["status"] == "sent"

        pushed = await next_frame(ws, "message")
        assert pushed["text"] == "It ships today."
        assert pushed["author"]["kind"] == "agent"

    doc = await db.messages.find_one({"_id": reply["id"]})
    assert doc["delivery"]["status"] == "sent" and doc["delivery"]["attempts"] == 1
    contact = await db.contacts.find_one({})
    assert contact["name"] == "Ada"


async def test_resent_client_id_is_stored_once_and_acked_with_same_id(client, db) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello"})
        token = (await next_frame(ws, "welcome"))["visitor_token"]
        await ws.send_json({"type": "message", "text": "once", "client_id": "same"})
        first = await next_frame(ws, "ack")
    # The customer reconnects (e.g. after a network drop) and resends.
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "visitor_token": token})
        welcome = await next_frame(ws, "welcome")
        assert welcome["resumed"] is True
        await ws.send_json({"type": "message", "text": "once", "client_id": "same"})
        second = await next_frame(ws, "ack")
    assert second["id"] == first["id"]
    assert second["duplicate"] is True
    assert await db.messages.count_documents({}) == 1


async def test_same_client_id_from_two_visitors_is_two_messages(client, db) -> None:
    for _ in range(2):
        async with client.ws_connect("/chat") as ws:
            await ws.send_json({"type": "message", "text": "hi", "client_id": "c-1"})
            await next_frame(ws, "ack")
    assert await db.messages.count_documents({}) == 2
    assert await db.contacts.count_documents({}) == 2


async def _visitor_says(client, count: int) -> tuple[str, list[str]]:
    """A new visitor sends m0, m1, …; returns its token and the acknowledged ids."""
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello"})
        token = (await next_frame(ws, "welcome"))["visitor_token"]
        ids = []
        for n in range(count):
            await ws.send_json({"type": "message", "text": f"m{n}", "client_id": f"c{n}"})
            ids.append((await next_frame(ws, "ack"))["id"])
    return token, ids


async def test_history_after_reconnect(client) -> None:
    token, ids = await _visitor_says(client, 3)
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "visitor_token": token, "history_since": ids[0]})
        history = await next_frame(ws, "history")
        assert [m["text"] for m in history["messages"]] == ["m1", "m2"]
        await ws.send_json({"type": "history"})
        history = await next_frame(ws, "history")
        assert [m["text"] for m in history["messages"]] == ["m0", "m1", "m2"]


async def test_bad_frames_get_error_frames_and_store_nothing(client, db, config) -> None:
    too_big = json.dumps({"type": "message", "text": "x" * (config.web.max_frame_bytes + 10)})
    cases = [
        ("{not json", "invalid_json"),
        (json.dumps({"type": "teleport"}), "unknown_type"),
        (json.dumps({"type": ["message"]}), "unknown_type"),
        ("{" + json.dumps([1, 2])[1:], "invalid_json"),
        (json.dumps({"type": "message"}), "invalid_frame"),
        (json.dumps({"type": "message", "text": 5}), "invalid_frame"),
        (json.dumps({"type": "message", "text": "hi", "extra": 1}), "invalid_frame"),
        (json.dumps({"type": "message", "text": "   "}), "empty_message"),
        (
            json.dumps({"type": "hello", "visitor_token": "forged.token.value"}),
            "invalid_visitor_token",
        ),
        (too_big, "frame_too_large"),
    ]
    async with client.ws_connect("/chat") as ws:
        for data, code in cases:
            await ws.send_str(data)
            frame = await next_frame(ws, "error")
            assert frame["code"] == code, data[:60]
        await ws.send_bytes(b"\x00\x01")
        assert (await next_frame(ws, "error"))["code"] == "unsupported_frame"
        # The socket still works after the errors.
        await ws.send_json({"type": "ping"})
        assert (await next_frame(ws))["type"] == "pong"
    assert await db.messages.count_documents({}) == 0


async def test_reply_to_offline_visitor_arrives_in_history(client) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello"})
        token = (await next_frame(ws, "welcome"))["visitor_token"]
        await ws.send_json({"type": "message", "text": "anyone?", "client_id": "a"})
        ack = await next_frame(ws, "ack")
    resp = await client.get(f"/api/v1/messages/{ack['id']}", headers=bearer(client))
    conversation_id = (await resp.json())["conversation_id"]
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "Yes, here."},
        headers=bearer(client),
    )
    reply_id = (await resp.json())["id"]
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "visitor_token": token, "history_since": ack["id"]})
        history = await next_frame(ws, "history")
    assert [m["id"] for m in history["messages"]] == [reply_id]


async def test_private_note_never_reaches_the_customer(client, db) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "hello", "client_id": "a"})
        ack = await next_frame(ws, "ack")
        doc = await db.messages.find_one({"_id": ack["id"]})
        conv = doc["conversation_id"]
        await client.post(
            f"/api/v1/conversations/{conv}/messages",
            json={"text": "VIP customer", "private": True},
            headers=bearer(client),
        )
        await client.post(
            f"/api/v1/conversations/{conv}/messages", json={"text": "Hi!"}, headers=bearer(client)
        )
        pushed = await next_frame(ws, "message")
    assert pushed["text"] == "Hi!"
    note = await db.messages.find_one({"text": "VIP customer"})
    assert note["private"] is True and note["delivery"] is None


async def test_history_pages_follow_commit_order_with_more(make_client, config) -> None:
    paged = config.model_copy(deep=True)
    paged.web.history_limit = 2
    client = await make_client(paged)
    token, ids = await _visitor_says(client, 5)
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "visitor_token": token, "history_since": ids[0]})
        pages = [await next_frame(ws, "history")]
        while pages[-1]["more"]:
            await ws.send_json({"type": "history", "since": pages[-1]["messages"][-1]["id"]})
            pages.append(await next_frame(ws, "history"))
    assert [[m["seq"] for m in page["messages"]] for page in pages] == [[2, 3], [4, 5]]


async def test_a_reply_that_overtakes_another_arrives_after_it_and_once(
    make_client, config
) -> None:
    local = config.model_copy(deep=True)
    local.sync.fanout = "local"  # live delivery only through push_live, driven by the test
    client = await make_client(local)
    hub, web_chat = client.app[HUB], client.app[ADAPTERS]["web"]
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "history": True})
        await next_frame(ws, "history")
        await ws.send_json({"type": "message", "text": "anyone?", "client_id": "c1"})
        ack = await next_frame(ws, "ack")
        stored = await hub.store.get_message(ack["id"])
        conversation = await hub.require_conversation(stored.conversation_id)

        async def store_reply(text: str) -> Message:  # another writer's: no event here
            reply = stored.model_copy(
                update={"id": new_id(), "external_id": f"out:{text}", "seq": None, "text": text}
            )
            return (await hub.store.insert_message(reply))[0]

        first, second = await store_reply("first"), await store_reply("second")
        web_chat.push_live(outbound_for(second, conversation))  # overtakes "first"
        web_chat.push_live(outbound_for(first, conversation))
        frames = [await next_frame(ws, "message"), await next_frame(ws, "message")]
        assert [(f["text"], f["seq"]) for f in frames] == [("first", 2), ("second", 3)]
        await ws.send_json({"type": "ping"})
        assert (await next_frame(ws))["type"] == "pong"  # the late push of "first" was dropped
