"""An integrator's webhook receiver on loopback whose answers a test scripts, and the API
calls that register it and make a customer write."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from hub.domain import WEBHOOK_EVENT_TYPES
from tests.helpers.hub import bearer

ALL_EVENTS = list(WEBHOOK_EVENT_TYPES)


class Receiver:
    """An integrator's endpoint. ``script`` holds its next answers: a status, or "hang"
    (never answers, so the hub's request times out); then it accepts with 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes, str]] = []  # headers, body, outcome
        self.arrivals: list[float] = []  # the loop's clock at each request
        self.script: list[int | str] = []
        self.retry_after = "1"
        self.release = asyncio.Event()
        self.url = ""
        self.app = web.Application()
        self.app.router.add_post("/hook", self.hook)

    async def hook(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        step = self.script.pop(0) if self.script else 200
        self.requests.append((dict(request.headers), body, str(step)))
        self.arrivals.append(asyncio.get_running_loop().time())
        if step == "hang":
            await self.release.wait()
            return web.Response(status=200)
        headers = {"Retry-After": self.retry_after} if step == 429 else {}
        if step == 302:
            headers = {"Location": "http://169.254.169.254/latest/meta-data"}
        return web.Response(status=int(step), headers=headers)

    def accepted(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body, outcome in self.requests if outcome == "200"]


async def register(client: Any, url: str, events: list[str] | None = None) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/webhooks/endpoints",
        json={"url": url, "events": events or ALL_EVENTS},
        headers=bearer(client, sub="root", role="admin"),
    )
    assert resp.status == 201, await resp.text()
    found: dict[str, Any] = await resp.json()
    return found


async def customer_writes(client: Any, text: str, message_id: str = "m1") -> dict[str, Any]:
    """A customer message through an API inbox: a new contact, conversation and message."""
    admin = bearer(client, sub="root", role="admin")
    resp = await client.post(
        "/api/v1/api-channels",
        json={"name": "SMS", "webhook_url": "https://bridge.example.com/chorus"},
        headers=admin,
    )
    inbox = await resp.json()
    resp = await client.post(
        f"/api/v1/api-channels/{inbox['id']}/messages",
        json={"message_id": message_id, "contact": {"id": "+15550100"}, "text": text},
        headers={"Authorization": f"Bearer {inbox['token']}"},
    )
    assert resp.status == 201, await resp.text()
    found: dict[str, Any] = await resp.json()
    return found
