"""Several hub instances over one database behave as one hub."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import ClientWebSocketResponse

from hub.access.tokens import TokenService
from hub.config.model import ChorusConfig
from storage.leases import LeaseStore
from storage.mongo import MongoStore, make_client
from tests.helpers.hub import bearer, ensure_agent, wait_for
from tests.helpers.instances import serve_env, two_hubs


async def _frame(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == kind:
            return frame


async def _frames_until(ws: ClientWebSocketResponse, message_id: str) -> list[dict[str, Any]]:
    """Every frame up to and including the message ``message_id``.

    A later public reply travels the same path (storage, then fan-out) as anything pushed
    wrongly before it, so once it arrives nothing sent earlier can still be on its way.
    """
    frames = []
    while True:
        frame = await ws.receive_json(timeout=10)
        frames.append(frame)
        if frame["type"] == "message" and frame["id"] == message_id:
            return frames


async def _customer_writes(ws: ClientWebSocketResponse, text: str) -> dict[str, Any]:
    await ws.send_json({"type": "message", "text": text, "client_id": text})
    return await _frame(ws, "ack")


async def test_a_reply_sent_through_b_reaches_the_customer_on_a_once(make_client, db) -> None:
    instance_a = await make_client()
    instance_b = await make_client()
    async with instance_a.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello", "name": "Ada"})
        await _frame(ws, "welcome")
        ack = await _customer_writes(ws, "Is anyone there?")
        stored = await db.messages.find_one({"_id": ack["id"]})

        resp = await instance_b.post(
            f"/api/v1/conversations/{stored['conversation_id']}/messages",
            json={"text": "Yes, from instance B."},
            headers=bearer(instance_b, sub="agent-bo"),
        )
        assert resp.status == 201
        reply = await resp.json()
        pushed = await _frame(ws, "message")
        assert pushed["id"] == reply["id"] and pushed["text"] == "Yes, from instance B."

        async def sent() -> Any:
            doc = await db.messages.find_one({"_id": reply["id"]})
            return doc["delivery"]["status"] == "sent" and doc

        delivered = await wait_for(sent)
        assert delivered["delivery"]["attempts"] == 1
        # Private notes are not pushed, and the reply is not pushed twice: the next message
        # frame is a later public reply, sent after the note.
        await instance_b.post(
            f"/api/v1/conversations/{stored['conversation_id']}/messages",
            json={"text": "internal", "private": True},
            headers=bearer(instance_b),
        )
        resp = await instance_b.post(
            f"/api/v1/conversations/{stored['conversation_id']}/messages",
            json={"text": "Anything else?"},
            headers=bearer(instance_b, sub="agent-bo"),
        )
        later = await resp.json()
        frames = await _frames_until(ws, later["id"])
        assert [f["text"] for f in frames if f["type"] == "message"] == ["Anything else?"]


async def test_local_fanout_serves_a_single_process(make_client, config: ChorusConfig, db) -> None:
    local = config.model_copy(deep=True)
    local.sync.fanout = "local"
    client = await make_client(local)
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello"})
        await _frame(ws, "welcome")
        ack = await _customer_writes(ws, "hello")
        stored = await db.messages.find_one({"_id": ack["id"]})
        await client.post(
            f"/api/v1/conversations/{stored['conversation_id']}/messages",
            json={"text": "hi back"},
            headers=bearer(client),
        )
        assert (await _frame(ws, "message"))["text"] == "hi back"
        resp = await client.post(
            f"/api/v1/conversations/{stored['conversation_id']}/messages",
            json={"text": "still here"},
            headers=bearer(client),
        )
        frames = await _frames_until(ws, (await resp.json())["id"])
        assert [f["text"] for f in frames if f["type"] == "message"] == ["still here"]


async def test_a_lease_is_held_by_one_instance_until_released_or_expired(
    mongo_uri, db_name, db
) -> None:
    store = MongoStore(make_client(mongo_uri), db_name)
    leases = LeaseStore(store)
    try:
        assert await leases.acquire("nightly-archive", "instance-a", ttl_seconds=30)
        assert not await leases.acquire("nightly-archive", "instance-b", ttl_seconds=30)
        assert await leases.acquire("nightly-archive", "instance-a", ttl_seconds=30)  # renewal
        assert not await leases.release("nightly-archive", "instance-b")
        assert await leases.release("nightly-archive", "instance-a")
        assert await leases.acquire("nightly-archive", "instance-b", ttl_seconds=0.001)

        async def expired() -> bool:
            return await leases.acquire("nightly-archive", "instance-a", ttl_seconds=30)

        await wait_for(expired)
        assert (await db.leases.find_one({"_id": "nightly-archive"}))["owner"] == "instance-a"
    finally:
        await store.close()


async def test_two_serve_processes_on_one_database(config: ChorusConfig, db, tmp_path) -> None:
    ensure_agent(config, "agent-bo")
    token = TokenService(config.auth).issue("agent-bo", "agent")
    async with (
        two_hubs(serve_env(config, tmp_path)) as (a, b),
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{a}/chat") as ws,
    ):
        await ws.send_json({"type": "hello", "name": "Ada"})
        await _frame(ws, "welcome")
        ack = await _customer_writes(ws, "Hello from A")
        stored = await db.messages.find_one({"_id": ack["id"]})
        async with http.post(
            f"{b}/api/v1/conversations/{stored['conversation_id']}/messages",
            json={"text": "Answered on B"},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            assert resp.status == 201
            reply = await resp.json()
        pushed = await _frame(ws, "message")
        assert (pushed["id"], pushed["text"]) == (reply["id"], "Answered on B")
        async with http.post(
            f"{b}/api/v1/conversations/{stored['conversation_id']}/messages",
            json={"text": "Anything else?"},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            later = await resp.json()
        frames = await _frames_until(ws, later["id"])
        # No second copy of the first reply came before the later one.
        assert [f["text"] for f in frames if f["type"] == "message"] == ["Anything else?"]
