"""Resume after a dropped socket misses nothing, across concurrent writers on two hubs."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import aiohttp

from hub.access.tokens import TokenService
from hub.config.model import ChorusConfig
from tests.helpers.hub import ensure_agent
from tests.helpers.hubproc import HubProcess

CUSTOMERS = 3
REPLIES = 24  # per customer, half through each hub, all at once


class Customer:
    """A widget-like client: keeps the id of the last message it got and resumes after it.

    It does not deduplicate: what it records is exactly what the hub sent it.
    """

    def __init__(self, name: str, hubs: list[HubProcess], rng: random.Random) -> None:
        self.name = name
        self.hubs = hubs
        self.rng = rng
        self.token: str | None = None
        self.last_id: str | None = None
        self.replies: list[str] = []
        self.cuts = 0

    async def hello(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        frame: dict[str, Any] = {"type": "hello", "visitor_token": self.token, "name": self.name}
        if self.last_id is not None:
            frame["history_since"] = self.last_id
        await ws.send_json(frame)

    def take(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "welcome":
            self.token = frame["visitor_token"]
        elif frame["type"] == "history":
            for message in frame["messages"]:
                self.take({**message, "type": "message"})
        elif frame["type"] == "message":
            self.last_id = frame["id"]
            if frame["direction"] == "outbound":
                self.replies.append(frame["id"])

    async def first_message(self, http: aiohttp.ClientSession) -> str:
        async with http.ws_connect(self.hubs[0].ws_url) as ws:
            await self.hello(ws)
            await ws.send_json({"type": "message", "text": "hi", "client_id": "c1"})
            while True:
                frame = await ws.receive_json(timeout=10)
                self.take(frame)
                if frame["type"] == "ack":
                    self.last_id = frame["id"]
                    return str(frame["id"])

    async def session(self, http: aiohttp.ClientSession, cut_after: float | None) -> None:
        """One connection to a random hub, closed by the client after ``cut_after`` s."""
        hub = self.rng.choice(self.hubs)
        async with http.ws_connect(hub.ws_url) as ws:
            await self.hello(ws)
            try:
                async with asyncio.timeout(cut_after):
                    async for msg in ws:
                        self.take(msg.json())
            except TimeoutError:
                self.cuts += 1

    async def run(self, http: aiohttp.ClientSession, posting: asyncio.Event) -> None:
        while not posting.is_set():
            await self.session(http, self.rng.uniform(0.01, 0.25))
        while len(self.replies) < REPLIES:  # the burst is over: stay until caught up
            await self.session(http, 2.0)


async def test_every_customer_gets_every_reply_once_in_order_through_cuts(
    config: ChorusConfig, mongo_uri: str, db_name: str, db, tmp_path
) -> None:
    seed = random.randrange(1 << 30)
    print(f"seed={seed}")
    rng = random.Random(seed)
    secret = config.auth.jwt_secret.get_secret_value()
    env = {"CHORUS_AUTH__JWT_SECRET": secret, "CHORUS_OUTBOX__POLL_SECONDS": "0.5"}
    env["CHORUS_AUTH__JWT_SECRET_FILE"] = str(tmp_path / "jwt_secret")
    hubs = [HubProcess(mongo_uri, db_name, **env) for _ in range(2)]
    await asyncio.gather(*(hub.start() for hub in hubs))
    ensure_agent(
        config.model_copy(
            update={
                "mongo": config.mongo.model_copy(update={"uri": mongo_uri, "database": db_name})
            }
        ),
        "agent-bo",
    )
    auth = {"Authorization": f"Bearer {TokenService(config.auth).issue('agent-bo', 'agent')}"}
    try:
        async with aiohttp.ClientSession() as http:
            customers = [Customer(f"c{i}", hubs, rng) for i in range(CUSTOMERS)]
            firsts = [await customer.first_message(http) for customer in customers]
            conversations = [
                (await db.messages.find_one({"_id": first}))["conversation_id"] for first in firsts
            ]
            posting = asyncio.Event()
            readers = [asyncio.create_task(c.run(http, posting)) for c in customers]

            async def reply(conversation_id: str, n: int) -> None:
                url = f"{hubs[n % 2].url}/api/v1/conversations/{conversation_id}/messages"
                async with http.post(url, json={"text": f"r{n}"}, headers=auth) as resp:
                    assert resp.status == 201, await resp.text()

            await asyncio.gather(*(reply(cid, n) for cid in conversations for n in range(REPLIES)))
            posting.set()
            async with asyncio.timeout(60):
                await asyncio.gather(*readers)
    finally:
        await asyncio.gather(*(hub.stop() for hub in hubs))
    for customer, conversation_id in zip(customers, conversations, strict=True):
        stored = (
            await db.messages.find({"conversation_id": conversation_id, "direction": "outbound"})
            .sort("seq", 1)
            .to_list()
        )
        assert len(stored) == REPLIES
        duplicated = [i for i, count in Counter(customer.replies).items() if count > 1]
        missing = {doc["_id"] for doc in stored} - set(customer.replies)
        assert (duplicated, missing) == ([], set()), f"{customer.name}, {customer.cuts} cuts"
        # One order: the conversation's commit order, the same for every reader.
        assert customer.replies == [doc["_id"] for doc in stored]
    assert sum(c.cuts for c in customers) >= CUSTOMERS
