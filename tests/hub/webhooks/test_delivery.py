"""Outbound webhooks arrive at least once, signed, through failures, 429s and a restart;
what is given up on is a dead letter that can be replayed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.helpers.hub import bearer, wait_for
from tests.helpers.webhooks import customer_writes, register
from tests.ops.scrape import scrape

EXPECTED = {
    "contact.created",
    "conversation.created",
    "message.created",
    "conversation.status_changed",
    "conversation.assigned",
}


def _signed(receiver: Any, secret: str) -> None:
    for headers, body, _ in receiver.requests:
        assert verify(secret, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], body)


async def _accepted_types(receiver: Any, wanted: set[str]) -> set[str]:
    async def arrived() -> set[str] | None:
        types = {event["type"] for event in receiver.accepted()}
        return types if wanted <= types else None

    found: set[str] = await wait_for(arrived, within=20)
    return found


async def test_every_event_arrives_signed_through_failures_timeouts_and_429(
    make_client, hook_config, receiver, db
) -> None:
    receiver.script = [500, "hang", 429, 503]
    client = await make_client(hook_config)
    endpoint = await register(client, receiver.url)
    posted = await customer_writes(client, "where is my parcel?")
    resp = await client.patch(
        f"/api/v1/conversations/{posted['conversation_id']}",
        json={"status": "open", "assignee": "alice"},
        headers=bearer(client, sub="alice"),
    )
    assert resp.status == 200, await resp.text()

    await _accepted_types(receiver, EXPECTED)
    _signed(receiver, endpoint["secret"])
    events = {e["type"]: e for e in receiver.accepted()}
    assert events["message.created"]["data"]["message"]["id"] == posted["id"]
    assert events["message.created"]["data"]["message"]["text"] == "where is my parcel?"
    assert "raw" not in events["message.created"]["data"]["message"]
    changed = events["conversation.status_changed"]["data"]
    assert (changed["previous_status"], changed["status"], changed["handoff"]) == (
        "bot",
        "open",
        True,
    )
    assert events["conversation.assigned"]["data"]["assignee"] == "alice"

    # A retry sends the same bytes under the same id; every event was accepted once at least.
    async def all_accepted() -> bool:
        sent = {json.loads(body)["id"] for _, body, _ in receiver.requests}
        return sent == {e["id"] for e in receiver.accepted()}

    await wait_for(all_accepted, within=20)
    bodies: dict[str, set[bytes]] = {}
    for _, body, _ in receiver.requests:
        bodies.setdefault(json.loads(body)["id"], set()).add(body)
    assert all(len(versions) == 1 for versions in bodies.values())
    assert set(bodies) == {e["id"] for e in receiver.accepted()}
    assert len(receiver.requests) > len(bodies)  # some were retried
    # The 429's Retry-After (1 s, capped at max_delay_seconds 0.6) was honoured.
    rate_limited = next(i for i, r in enumerate(receiver.requests) if r[2] == "429")
    limited_event = json.loads(receiver.requests[rate_limited][1])["id"]
    doc = await db.webhook_deliveries.find_one({"event_id": limited_event})
    assert doc["delivery"]["status"] == "sent"
    assert doc["delivery"]["attempts"] >= 2

    metrics = await scrape(client)
    assert metrics.value("chorus_webhook_deliveries_total", result="delivered") >= 5
    assert metrics.value("chorus_webhook_deliveries_total", result="server_error") >= 1
    assert metrics.value("chorus_webhook_deliveries_total", result="timeout") >= 1
    assert metrics.value("chorus_webhook_deliveries_total", result="rate_limited") >= 1
    assert metrics.value("chorus_webhook_lag_seconds") == 0


async def test_retry_after_is_waited_for(make_client, hook_config, receiver, db) -> None:
    receiver.script = [429]
    client = await make_client(hook_config)
    await register(client, receiver.url, ["message.created"])
    await customer_writes(client, "hello")

    async def delivered() -> Any:
        return len(receiver.requests) >= 2 and receiver.requests[-1][2] == "200"

    await wait_for(delivered, within=10)
    doc = await db.webhook_deliveries.find_one({})
    assert doc["delivery"]["status"] == "sent"
    assert doc["delivery"]["reason"] is None
    # The base delay is 0.02 s: only the Retry-After (1 s, capped at max_delay_seconds
    # 0.6) explains a second try this much later.
    assert receiver.arrivals[1] - receiver.arrivals[0] >= 0.55


async def test_nothing_is_lost_across_a_restart_mid_retry(
    make_client, hook_config, receiver, db
) -> None:
    hook_config.webhooks.base_delay_seconds = 0.5
    receiver.script = [500, 500]
    first = await make_client(hook_config)
    await register(first, receiver.url, ["message.created"])
    await customer_writes(first, "before the restart")

    async def retrying() -> Any:
        doc = await db.webhook_deliveries.find_one({})
        return doc and doc["delivery"]["attempts"] >= 1 and doc["delivery"].get("reason")

    await wait_for(retrying)
    await first.close()  # the hub stops with the delivery owed and a retry scheduled
    assert not receiver.accepted()

    second = await make_client(hook_config)

    async def delivered() -> Any:
        return receiver.accepted()

    (event,) = await wait_for(delivered, within=15)
    assert event["data"]["message"]["text"] == "before the restart"

    async def recorded() -> Any:  # the outcome is written after the receiver answered
        doc = await db.webhook_deliveries.find_one({})
        return doc["delivery"]["status"] == "sent"

    await wait_for(recorded)
    assert await db.webhook_deliveries.count_documents({}) == 1
    await second.close()


async def test_dead_letters_are_listed_and_replayed(make_client, hook_config, receiver, db) -> None:
    hook_config.webhooks.retry_for_seconds = 0.3
    receiver.script = [500] * 1000
    client = await make_client(hook_config)
    admin = bearer(client, sub="root", role="admin")
    endpoint = await register(client, receiver.url, ["message.created"])
    await customer_writes(client, "first", "m1")
    await customer_writes(client, "second", "m2")

    async def dead() -> Any:
        resp = await client.get("/api/v1/webhooks/dead-letters", headers=admin)
        items = (await resp.json())["items"]
        return items if len(items) == 2 else None

    letters = await wait_for(dead, within=15)
    assert {letter["endpoint_id"] for letter in letters} == {endpoint["id"]}
    assert all(letter["reason"] == "answered 500" for letter in letters)
    metrics = await scrape(client)
    assert metrics.value("chorus_webhook_dead_letters_total") == 2
    assert metrics.value("chorus_webhook_dead_letters_stored") == 2

    receiver.script = []  # the receiver is fixed
    resp = await client.post(
        f"/api/v1/webhooks/dead-letters/{letters[0]['id']}/replay", headers=admin
    )
    assert resp.status == 200 and (await resp.json()) == {"replayed": 1}

    async def texts() -> Any:
        return {e["data"]["message"]["text"] for e in receiver.accepted()} or None

    assert await wait_for(texts) == {"first"}
    resp = await client.post(
        f"/api/v1/webhooks/dead-letters/{letters[0]['id']}/replay", headers=admin
    )
    assert resp.status == 404  # delivered now: no longer a dead letter

    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    until = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    resp = await client.post(
        "/api/v1/webhooks/dead-letters/replay",
        json={"since": since, "until": until, "endpoint_id": endpoint["id"]},
        headers=admin,
    )
    assert (await resp.json()) == {"replayed": 1}

    async def both() -> Any:
        found = await texts()
        return found if found == {"first", "second"} else None

    await wait_for(both)
    resp = await client.get("/api/v1/webhooks/dead-letters", headers=admin)
    assert (await resp.json())["items"] == []


async def test_an_endpoint_failing_too_long_is_paused_and_flagged(
    make_client, hook_config, receiver, db
) -> None:
    hook_config.webhooks.pause_after_seconds = 0.05
    receiver.script = [500] * 1000
    client = await make_client(hook_config)
    admin = bearer(client, sub="root", role="admin")
    endpoint = await register(client, receiver.url, ["message.created"])
    await customer_writes(client, "hello")

    async def paused() -> Any:
        resp = await client.get("/api/v1/webhooks/endpoints", headers=admin)
        (item,) = (await resp.json())["items"]
        return item if item["flagged"] else None

    item = await wait_for(paused, within=15)
    assert item["active"] is False and item["failing_since"]

    # Paused: what was still owed is a dead letter, replayable once the endpoint is back.
    async def dead() -> Any:
        return await db.webhook_deliveries.find_one({"delivery.status": "failed"})

    await wait_for(dead)
    resp = await client.patch(
        f"/api/v1/webhooks/endpoints/{endpoint['id']}", json={"active": True}, headers=admin
    )
    body = await resp.json()
    assert (body["active"], body["flagged"], body["failing_since"]) == (True, False, None)


async def test_redirects_are_not_followed(make_client, hook_config, receiver, db) -> None:
    receiver.script = [302]
    client = await make_client(hook_config)
    await register(client, receiver.url, ["message.created"])
    await customer_writes(client, "hello")

    async def dead() -> Any:
        return await db.webhook_deliveries.find_one({"delivery.status": "failed"})

    doc = await wait_for(dead)
    assert doc["delivery"]["reason"] == "answered 302"
    assert len(receiver.requests) == 1
