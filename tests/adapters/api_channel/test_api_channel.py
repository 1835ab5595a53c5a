"""The generic API channel, from an integrator's side: post with the inbox token, receive
replies on a webhook, verify each delivery's signature with nothing but the standard library."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from aiohttp import web

from tests.helpers.hub import bearer, wait_for


class Receiver:
    """The integrator's webhook endpoint; ``statuses`` scripts its next answers."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.app = web.Application()
        self.app.router.add_post("/hook", self.hook)

    async def hook(self, request: web.Request) -> web.Response:
        self.deliveries.append((dict(request.headers), await request.read()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def receiver(aiohttp_server: Any) -> Any:
    found = Receiver()
    server = await aiohttp_server(found.app)
    found.url = str(server.make_url("/hook"))  # type: ignore[attr-defined]
    return found


async def _inbox(client, receiver) -> dict:
    resp = await client.post(
        "/api/v1/api-channels",
        json={"name": "WhatsApp via provider", "webhook_url": receiver.url},
        headers=bearer(client, role="admin"),
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


def _post(client, inbox: dict, body: Any, token: str | None = None):
    headers = {"Authorization": f"Bearer {token or inbox['token']}"}
    return client.post(f"/api/v1/api-channels/{inbox['id']}/messages", json=body, headers=headers)


async def _delivery(db: Any, message_id: str, status: str) -> dict:
    """The reply's document once its delivery reached ``status``."""

    async def reached() -> Any:
        doc = await db.messages.find_one({"_id": message_id})
        return doc if doc["delivery"]["status"] == status else None

    found: dict = await wait_for(reached, within=15)
    return found


MESSAGE = {
    "message_id": "wamid.1",
    "contact": {"id": "+8613800000000", "name": "李雷"},
    "text": "你好",
}


async def test_posts_are_stored_once_and_listing_hides_secrets(make_client, receiver, db) -> None:
    client = await make_client()
    inbox = await _inbox(client, receiver)
    assert inbox["token"].startswith("cha_") and inbox["secret"]
    first = await _post(client, inbox, MESSAGE)
    assert first.status == 201
    again = await _post(client, inbox, MESSAGE)  # the integrator's retry
    assert again.status == 200
    assert (await again.json())["duplicate"] is True
    assert (await again.json())["id"] == (await first.json())["id"]
    stored = await db.messages.find({"channel": "api"}).to_list()
    assert [m["text"] for m in stored] == ["你好"]

    listing = await client.get("/api/v1/api-channels", headers=bearer(client, role="admin"))
    text = await listing.text()
    assert inbox["id"] in text and inbox["token"] not in text and inbox["secret"] not in text
    stored_inbox = await db.api_channels.find_one({"_id": inbox["id"]})
    assert inbox["token"] not in json.dumps(stored_inbox, default=str)


async def test_a_stranger_can_neither_post_nor_create(make_client, receiver, db) -> None:
    client = await make_client()
    inbox = await _inbox(client, receiver)
    other = await _inbox(client, receiver)
    for token in ("wrong", other["token"], ""):
        resp = await _post(client, inbox, MESSAGE, token=token or " ")
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] in ("invalid_token", "missing_token")
    resp = await client.post("/api/v1/api-channels/nope/messages", json=MESSAGE)
    assert resp.status == 401
    resp = await client.post(
        "/api/v1/api-channels",
        json={"name": "mine", "webhook_url": receiver.url},
        headers=bearer(client, role="agent"),
    )
    assert resp.status == 403
    assert await db.messages.count_documents({}) == 0


@pytest.mark.parametrize(
    "body",
    [
        {**MESSAGE, "text": "  "},
        {**MESSAGE, "extra": 1},
        {**MESSAGE, "message_id": 5},
        {**MESSAGE, "contact": {"name": "no id"}},
        {**MESSAGE, "attachments": [{"url": "javascript:alert(1)"}]},
        [MESSAGE],
    ],
)
async def test_bad_bodies_get_a_clear_error_and_store_nothing(
    make_client, receiver, db, body
) -> None:
    client = await make_client()
    inbox = await _inbox(client, receiver)
    resp = await _post(client, inbox, body)
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "invalid_message"
    assert await db.messages.count_documents({}) == 0


async def test_replies_reach_the_webhook_signed_and_survive_a_5xx(
    make_client, receiver, db
) -> None:
    client = await make_client()
    inbox = await _inbox(client, receiver)
    posted = await (await _post(client, inbox, MESSAGE)).json()
    receiver.statuses = [503]
    resp = await client.post(
        f"/api/v1/conversations/{posted['conversation_id']}/messages",
        json={"text": "您好，我们来帮您"},
        headers=bearer(client),
    )
    assert resp.status == 201
    reply_id = (await resp.json())["id"]

    await _delivery(db, reply_id, "sent")
    assert len(receiver.deliveries) == 2  # the 503, then the retry
    headers, body = receiver.deliveries[-1]
    timestamp = headers["X-Chorus-Timestamp"]
    expected = hmac.new(
        inbox["secret"].encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Chorus-Signature"] == f"v1={expected}"
    assert abs(time.time() - int(timestamp)) < 60
    event = json.loads(body)
    assert event["type"] == "message.created" and event["id"] == reply_id
    assert event["message"]["contact_id"] == "+8613800000000"
    assert event["message"]["text"] == "您好，我们来帮您"


async def test_a_refusing_webhook_marks_the_reply_failed(make_client, receiver, db) -> None:
    client = await make_client()
    inbox = await _inbox(client, receiver)
    posted = await (await _post(client, inbox, MESSAGE)).json()
    receiver.statuses = [410]
    resp = await client.post(
        f"/api/v1/conversations/{posted['conversation_id']}/messages",
        json={"text": "gone?"},
        headers=bearer(client),
    )
    reply_id = (await resp.json())["id"]

    doc = await _delivery(db, reply_id, "failed")
    assert "410" in doc["delivery"]["reason"] and len(receiver.deliveries) == 1


def test_the_shared_signing_module_agrees_with_a_receivers_check() -> None:
    from hub.webhooks.signature import sign, verify

    body = b'{"id": "1"}'
    now = time.time()
    signature = sign("s3cret", int(now), body)
    assert verify("s3cret", str(int(now)), signature, body, now=now)
    assert not verify("s3cret", str(int(now)), signature, body + b" ", now=now)
    assert not verify("other", str(int(now)), signature, body, now=now)
    assert not verify(
        "s3cret", str(int(now) - 301), sign("s3cret", int(now) - 301, body), body, now=now
    )
    assert not verify("s3cret", "abc", signature, body, now=now)


async def test_a_receivers_huge_retry_after_parks_nothing_and_stops_nothing(
    make_client, receiver, db, aiohttp_server
) -> None:
    async def retry_much_later(request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "999999999999"})

    app = web.Application()
    app.router.add_post("/hook", retry_much_later)
    hostile = await aiohttp_server(app)
    client = await make_client()
    bad = await _inbox(client, type("R", (), {"url": str(hostile.make_url("/hook"))}))
    good = await _inbox(client, receiver)
    for inbox, text in ((bad, "to the hostile receiver"), (good, "to a healthy one")):
        posted = await (await _post(client, inbox, {**MESSAGE, "message_id": text})).json()
        resp = await client.post(
            f"/api/v1/conversations/{posted['conversation_id']}/messages",
            json={"text": text},
            headers=bearer(client),
        )
        assert resp.status == 201

    async def healthy_delivered() -> Any:
        return receiver.deliveries or None

    await wait_for(healthy_delivered, within=15)  # the outbox outlived the hostile answer

    async def rescheduled() -> Any:
        doc = await db.messages.find_one({"text": "to the hostile receiver"})
        return doc if doc["delivery"].get("reason") else None

    parked = await wait_for(rescheduled, within=15)
    assert parked["delivery"]["status"] == "pending"
    wait = parked["delivery"]["next_attempt_at"] - parked["delivery"]["updated_at"]
    assert wait.total_seconds() <= 300 + 1  # at most outbox.max_delay_seconds


async def test_a_redirecting_webhook_is_not_followed_nor_counted_as_delivery(
    make_client, receiver, db, aiohttp_server
) -> None:
    followed: list[str] = []
    app = web.Application()

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        followed.append(request.method)
        return web.Response()

    app.router.add_post("/hook", moved)
    app.router.add_route("*", "/elsewhere", elsewhere)
    server = await aiohttp_server(app)
    client = await make_client()
    inbox = await _inbox(client, type("R", (), {"url": str(server.make_url("/hook"))}))
    posted = await (await _post(client, inbox, MESSAGE)).json()
    resp = await client.post(
        f"/api/v1/conversations/{posted['conversation_id']}/messages",
        json={"text": "hi"},
        headers=bearer(client),
    )
    reply_id = (await resp.json())["id"]

    doc = await _delivery(db, reply_id, "failed")
    assert "302" in doc["delivery"]["reason"] and followed == []


async def test_webhook_urls_carry_no_credentials(make_client) -> None:
    client = await make_client()
    resp = await client.post(
        "/api/v1/api-channels",
        json={"name": "x", "webhook_url": "https://user:pw@bridge.example.com/hook"},
        headers=bearer(client, role="admin"),
    )
    assert resp.status == 400
