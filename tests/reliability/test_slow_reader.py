"""A stalled WebSocket reader does not stall anyone else, and is dropped and resyncs.

The stalled client is real: it stops calling ``receive``. aiohttp's WebSocket reader
then queues the frames that keep arriving up to its limit (128 KiB) and past it stops
reading the socket (its flow control), so the kernel's buffers and then the hub's writer
for that socket fill up, and frames for
it pile up in its bounded queue until the hub closes it with 1013. Every frame for it is
produced by a separate storage round trip, so the queue can only fill because the writer
is stuck, not because of a burst. Meanwhile a healthy customer and a healthy agent carry
on, and afterwards the stalled client resumes from storage with nothing lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, TCPConnector, WSMsgType

from hub.state import HUB, LIVE, TOKENS
from tests.helpers.hub import bearer

QUEUE = 16
LONG = "x" * 3_900  # frames of a few KB fill the socket buffers in a few dozen
# The stalled feed's socket buffers, fixed on both ends: left to the kernel's autotuning they
# grow to tcp_rmem's and tcp_wmem's maxima (MBs), about a thousand frames, which a loaded
# machine does not send within the test's time. A set size turns autotuning off for a socket.
STALLED_BUFFER = 64 * 1024


async def _next(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == kind:
            return frame


def _drops(client: Any, kind: str) -> float:
    registry = client.app[HUB].metrics.registry
    value = registry.get_sample_value("chorus_websocket_slow_reader_drops_total", {"kind": kind})
    return value or 0.0


async def _resume_until_closed(ws: ClientWebSocketResponse, kind: str) -> int:
    """Read again; returns how many ``kind`` frames arrived before the close frame."""
    frames = 0
    async with asyncio.timeout(30):
        while True:
            msg = await ws.receive()
            if msg.type != WSMsgType.TEXT:
                break
            frames += msg.json()["type"] == kind
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED), msg
    return frames


async def _say(customer: ClientWebSocketResponse, agent: Any, text: str, client_id: str) -> None:
    """A customer's message is acknowledged and reaches the (healthy) agent feed."""
    await customer.send_json({"type": "message", "text": text, "client_id": client_id})
    assert (await _next(customer, "ack"))["client_id"] == client_id
    event = await _next(agent, "message")
    while event["message"].get("client_id") != client_id:  # earlier messages' events
        event = await _next(agent, "message")


async def _reply(client: Any, customer: ClientWebSocketResponse, text: str) -> None:
    resp = await client.get("/api/v1/conversations", headers=bearer(client, sub="bo"))
    conversation_id = (await resp.json())["items"][0]["id"]
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=bearer(client, sub="bo"),
    )
    assert resp.status == 201
    assert (await _next(customer, "message"))["text"] == text


async def _agent_feed(
    client: Any, sub: str, session: ClientSession | None = None
) -> ClientWebSocketResponse:
    token = client.app[TOKENS].issue(sub, "agent")
    path = f"/inbox/ws?access_token={token}"
    if session is None:
        ws = await client.ws_connect(path)
    else:
        ws = await session.ws_connect(client.make_url(path))
    await _next(ws, "ready")
    return ws


def _small_receive_buffer(addr_info: Any) -> socket.socket:
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_BUFFER)  # before connect
    return sock


@contextlib.asynccontextmanager
async def _stalling_session() -> AsyncIterator[ClientSession]:
    async with ClientSession(connector=TCPConnector(socket_factory=_small_receive_buffer)) as s:
        yield s


async def test_stalled_customer_is_dropped_and_resyncs(make_client, config) -> None:
    config.web.send_queue_size = QUEUE
    client = await make_client(config)
    agent = await _agent_feed(client, "bo")
    stalled = await client.ws_connect("/chat")
    token = None
    for n in range(20):
        await stalled.send_json({"type": "message", "text": LONG, "client_id": f"s{n}"})
        token = token or (await _next(stalled, "welcome"))["visitor_token"]
        await _next(stalled, "ack")

    # From here on nothing reads ``stalled`` until it is resumed below.
    # Each history answer (20 long messages) is one storage query and ~80 KB of frame.
    asked = 0
    async with asyncio.timeout(60):
        while _drops(client, "customer") == 0:
            await stalled.send_json({"type": "history"})
            asked += 1
            await asyncio.sleep(0)
    # Its writer is stuck and its close pending: the others carry on meanwhile.
    async with client.ws_connect("/chat") as healthy:
        for n in range(5):
            await _say(healthy, agent, f"still here {n}", f"h{n}")
        await _reply(client, healthy, "we hear you")

    answered = await _resume_until_closed(stalled, "history")
    assert stalled.close_code == 1013
    assert QUEUE < answered < asked  # it got what was queued; the rest was dropped
    assert _drops(client, "customer") == 1

    async with client.ws_connect("/chat") as again:
        await again.send_json({"type": "hello", "visitor_token": token, "history": True})
        assert (await _next(again, "welcome"))["resumed"] is True
        history = (await _next(again, "history"))["messages"]
        assert [m["client_id"] for m in history] == [f"s{n}" for n in range(20)]
    await agent.close()


async def test_stalled_agent_feed_is_dropped_and_reloads(make_client, config, db) -> None:
    config.web.agent_send_queue_size = QUEUE
    # One visitor sends until the stalled feed overflows: past a visitor's message rate.
    config.web.message_burst = 10_000
    client = await make_client(config)
    async with _stalling_session() as session:
        await _stalled_agent_feed(client, db, session)


async def _stalled_agent_feed(client: Any, db: Any, session: ClientSession) -> None:
    stalled = await _agent_feed(client, "ann", session)
    [hub_end] = [s.ws for s in client.app[LIVE].sockets if s.principal.subject == "ann"]
    hub_end.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STALLED_BUFFER)
    agent = await _agent_feed(client, "bo")
    healthy = await client.ws_connect("/chat")

    # Every stored message is one inbox event for both agents; only one reads them (nothing
    # reads ``stalled`` until it is resumed below).
    sent = 0
    async with asyncio.timeout(60):
        while _drops(client, "agent") == 0:
            await _say(healthy, agent, LONG, f"m{sent}")
            sent += 1
    await _say(healthy, agent, "still here", "last")
    await _reply(client, healthy, "we hear you")

    events = await _resume_until_closed(stalled, "message")
    assert stalled.close_code == 1013
    assert QUEUE < events < sent
    assert _drops(client, "agent") == 1

    # Resync: a new feed, and the list read from storage has everything that was missed.
    again = await _agent_feed(client, "ann")
    resp = await client.get("/api/v1/conversations", headers=bearer(client, sub="ann"))
    [conversation] = (await resp.json())["items"]
    assert await db.messages.count_documents({"conversation_id": conversation["id"]}) == sent + 2
    newest = db.messages.find({"conversation_id": conversation["id"]}).sort("created_at", -1)
    assert [m["text"] async for m in newest.limit(2)] == ["we hear you", "still here"]
    for ws in (healthy, agent, again):
        await ws.close()
