"""The webhook API as a stranger, an agent and a careless admin see it; SSRF refused."""

from __future__ import annotations

from typing import Any

import pytest

from hub.webhooks.service import WEBHOOKS
from tests.helpers.hub import bearer, wait_for
from tests.helpers.webhooks import customer_writes, register

ENDPOINTS = "/api/v1/webhooks/endpoints"
CALLS = [
    ("POST", ENDPOINTS),
    ("GET", ENDPOINTS),
    ("PATCH", ENDPOINTS + "/x"),
    ("DELETE", ENDPOINTS + "/x"),
    ("GET", "/api/v1/webhooks/dead-letters"),
    ("POST", "/api/v1/webhooks/dead-letters/x/replay"),
    ("POST", "/api/v1/webhooks/dead-letters/replay"),
]
BODY = {"url": "https://crm.example.com/hooks", "events": ["message.created"]}


@pytest.mark.parametrize(("method", "path"), CALLS)
async def test_strangers_and_agents_are_refused(make_client, config, method, path, db) -> None:
    client = await make_client(config)
    resp = await client.request(method, path, json=BODY)
    assert resp.status == 401
    assert (await resp.json())["error"]["code"]
    resp = await client.request(method, path, json=BODY, headers=bearer(client))
    assert resp.status == 403
    assert await db.webhook_endpoints.count_documents({}) == 0


@pytest.mark.parametrize(
    "body",
    [
        {**BODY, "url": "ftp://crm.example.com/"},
        {**BODY, "url": "not a url"},
        {**BODY, "url": "https://user:pw@crm.example.com/"},
        {**BODY, "events": []},
        {**BODY, "events": ["message.exploded"]},
        {**BODY, "extra": True},
        {**BODY, "active": "yes"},
        [BODY],
    ],
)
async def test_bad_bodies_are_refused_and_nothing_is_stored(make_client, config, body, db) -> None:
    client = await make_client(config)
    resp = await client.post(ENDPOINTS, json=body, headers=bearer(client, role="admin"))
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"]["code"] == "invalid_request"
    assert await db.webhook_endpoints.count_documents({}) == 0


async def test_oversized_and_non_json_bodies(make_client, config, db) -> None:
    client = await make_client(config)
    admin = bearer(client, role="admin")
    big = {**BODY, "description": "x" * (config.http.max_body_bytes + 1)}
    resp = await client.post(ENDPOINTS, json=big, headers=admin)
    assert resp.status == 413
    resp = await client.post(
        ENDPOINTS, data=b"{nope", headers={**admin, "Content-Type": "application/json"}
    )
    assert resp.status == 400
    resp = await client.post(ENDPOINTS, data=b"url=x", headers=admin)
    assert resp.status == 415
    assert await db.webhook_endpoints.count_documents({}) == 0


async def test_the_secret_is_shown_once(make_client, config, db) -> None:
    client = await make_client(config)
    admin = bearer(client, role="admin")
    created = await (await client.post(ENDPOINTS, json=BODY, headers=admin)).json()
    assert created["secret"].startswith("whsec_")
    listing = await (await client.get(ENDPOINTS, headers=admin)).text()
    assert created["id"] in listing and created["secret"] not in listing
    resp = await client.patch(f"{ENDPOINTS}/{created['id']}", json={"active": False}, headers=admin)
    assert (await resp.json())["active"] is False and created["secret"] not in await resp.text()
    resp = await client.patch(f"{ENDPOINTS}/nope", json={"active": False}, headers=admin)
    assert resp.status == 404
    resp = await client.patch(f"{ENDPOINTS}/{created['id']}", json={}, headers=admin)
    assert resp.status == 400
    assert (await client.delete(f"{ENDPOINTS}/{created['id']}", headers=admin)).status == 200
    assert await db.webhook_endpoints.count_documents({}) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:27017/",
        "http://10.0.0.5/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:9/hook",
    ],
)
async def test_private_destinations_are_refused_without_the_allowance(
    make_client, config, url, db
) -> None:
    client = await make_client(config)
    resp = await client.post(
        ENDPOINTS, json={**BODY, "url": url}, headers=bearer(client, role="admin")
    )
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"]["code"] == "blocked_destination"
    assert await db.webhook_endpoints.count_documents({}) == 0


async def test_a_stored_endpoint_that_now_leads_inside_is_never_requested(
    make_client, hook_config, receiver, db
) -> None:
    # Registered while allowed (or while its name resolved elsewhere), then refused.
    client = await make_client(hook_config)
    await register(client, receiver.url.replace("127.0.0.1", "localhost"), ["message.created"])
    await register(client, receiver.url, ["message.created"])
    # The allowance is withdrawn (config changed): the sender refuses both from now on.
    hooks = client.app[WEBHOOKS]
    hooks.sender.resolver.allow_private = False
    hooks.sender.settings.allow_private_addresses = False
    await customer_writes(client, "hello")

    async def both_dead() -> Any:
        docs = await db.webhook_deliveries.find({"delivery.status": "failed"}).to_list()
        return docs if len(docs) == 2 else None

    docs = await wait_for(both_dead)
    assert {d["delivery"]["reason"] for d in docs} == {"destination is not a public address"}
    assert receiver.requests == []
