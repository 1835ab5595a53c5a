"""``/metrics`` moves with traffic: customer messages in, agent replies out, refusals."""

from __future__ import annotations

import json

import aiohttp

from hub.config.model import MetricsConfig
from hub.ops.wiring import OPS
from hub.runtime.metrics import HubMetrics
from tests.helpers.hub import bearer, wait_for
from tests.helpers.scrape import Scrape, scrape
from tests.helpers.web_chat import next_frame


async def test_metrics_move_with_web_chat_and_api_traffic(client, config) -> None:
    before = await scrape(client)
    assert before.value("chorus_messages_received_total", channel="web") == 0
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "hello"})
        await next_frame(ws, "welcome")
        opened = await scrape(client)
        assert opened.value("chorus_websockets_open", kind="customer") == 1

        for n in range(2):
            await ws.send_json({"type": "message", "text": f"hi {n}", "client_id": f"c{n}"})
            ack = await next_frame(ws, "ack")
        await ws.send_json({"type": "message", "text": "hi 1", "client_id": "c1"})  # a resend
        await next_frame(ws, "ack")
        await ws.send_str("{broken")
        await next_frame(ws, "error")
        too_big = json.dumps({"type": "message", "text": "x" * (config.web.max_frame_bytes + 1)})
        await ws.send_str(too_big)
        await next_frame(ws, "error")

        resp = await client.get(f"/api/v1/messages/{ack['id']}", headers=bearer(client))
        conversation = (await resp.json())["conversation_id"]
        reply = f"/api/v1/conversations/{conversation}/messages"
        resp = await client.post(reply, json={"text": "On its way."}, headers=bearer(client))
        assert resp.status == 201
        await next_frame(ws, "message")
        # Refused API calls: no token, then a body that is not JSON.
        assert (await client.post(reply, json={"text": "x"})).status == 401
        resp = await client.post(
            reply,
            data=b"{not json",
            headers={**bearer(client), "Content-Type": "application/json"},
        )
        assert resp.status == 400

        async def sent() -> Scrape | None:
            now = await scrape(client)
            return now if now.value("chorus_messages_sent_total", channel="web") == 1 else None

        after = await wait_for(sent)
    assert after.value("chorus_messages_received_total", channel="web") == 2
    assert after.value("chorus_messages_duplicate_total", channel="web") == 1
    assert after.value("chorus_webhook_rejections_total", channel="web", cause="parse") == 1
    assert after.value("chorus_webhook_rejections_total", channel="web", cause="size") == 1
    assert after.value("chorus_webhook_rejections_total", channel="api", cause="signature") == 1
    assert after.value("chorus_webhook_rejections_total", channel="api", cause="parse") == 1
    assert after.value("chorus_storage_command_seconds_count", command="insert") >= 3
    # The handoff without the bot: a conditional bulk update (hub/core/hub.py), not findAndModify.
    assert after.value("chorus_storage_command_seconds_count", command="update") >= 1
    route = "/api/v1/conversations/{id}/messages"
    assert after.value("chorus_http_requests_total", route=route, method="POST", status="201") == 1
    assert after.value("chorus_http_request_seconds_count", route=route) == 3
    assert after.value("chorus_outbox_pending") == 0
    assert after.total("chorus_delivery_failures_total") == 0

    async def closed() -> bool:
        return (await scrape(client)).value("chorus_websockets_open", kind="customer") == 0

    await wait_for(closed)


async def test_undeliverable_reply_counts_a_failure(client, db) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "hello", "client_id": "a"})
        ack = await next_frame(ws, "ack")
    doc = await db.messages.find_one({"_id": ack["id"]})
    # A conversation on a channel this hub does not run: the outbox cannot route the reply.
    await db.conversations.update_one(
        {"_id": doc["conversation_id"]}, {"$set": {"channel": "telegram"}}
    )
    resp = await client.post(
        f"/api/v1/conversations/{doc['conversation_id']}/messages",
        json={"text": "hi"},
        headers=bearer(client),
    )
    assert resp.status == 201

    async def failed() -> bool:
        now = await scrape(client)
        labels = {"channel": "telegram", "reason": "not_routable"}
        return now.value("chorus_delivery_failures_total", **labels) == 1

    await wait_for(failed)


async def test_each_app_has_its_own_registry(make_client) -> None:
    first, second = await make_client(), await make_client()
    assert first.app[OPS].metrics.registry is not second.app[OPS].metrics.registry
    async with first.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "only here", "client_id": "a"})
        await next_frame(ws, "ack")
    assert (await scrape(first)).value("chorus_messages_received_total", channel="web") == 1
    assert (await scrape(second)).value("chorus_messages_received_total", channel="web") == 0
    assert isinstance(HubMetrics().registry, type(first.app[OPS].metrics.registry))


async def test_metrics_token_is_required_when_configured(make_client, config) -> None:
    config.metrics.token = "scrape-me"  # type: ignore[assignment]
    client = await make_client(config)
    resp = await client.get("/metrics")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "unauthorized"
    resp = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert resp.status == 401
    await scrape(client, headers={"Authorization": "Bearer scrape-me"})


async def test_metrics_on_the_main_port_are_refused_by_default(make_client, config) -> None:
    config.metrics = MetricsConfig()
    client = await make_client(config)
    resp = await client.get("/metrics")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "metrics_protected"
    config.metrics = MetricsConfig(port=0)  # a private listener needs no token
    client = await make_client(config)
    host, port = client.app[OPS].metrics_address
    async with aiohttp.ClientSession() as session:
        await scrape(session, f"http://{host}:{port}/metrics")


async def test_metrics_on_their_own_port(make_client, config) -> None:
    config.metrics.port = 0
    client = await make_client(config)
    assert (await client.get("/metrics")).status == 404  # not on the public port
    host, port = client.app[OPS].metrics_address
    async with client.ws_connect("/chat") as ws:
        await ws.send_json({"type": "message", "text": "hello", "client_id": "a"})
        await next_frame(ws, "ack")
    async with aiohttp.ClientSession() as session:
        now = await scrape(session, f"http://{host}:{port}/metrics")
        assert now.value("chorus_messages_received_total", channel="web") == 1
        resp = await session.get(f"http://{host}:{port}/chat")
        assert resp.status == 404
