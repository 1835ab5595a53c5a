"""The hub killed with SIGKILL while 1,000 messages are in flight loses and doubles nothing."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

from tests.helpers.hub import wait_for
from tests.helpers.hubproc import HubProcess

CUSTOMERS = 50
PER_CUSTOMER = 20


class Customer:
    """A web chat client that keeps what it sent until the hub acknowledged it."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.token: str | None = None
        self.unacked = {f"c{index}-{n}": f"message {n} from {index}" for n in range(PER_CUSTOMER)}
        self.acked: dict[str, str] = {}

    async def session(self, http: aiohttp.ClientSession, url: str, stop_after: int | None) -> None:
        """Send everything not yet acknowledged; with ``stop_after``, go quiet after that many."""
        try:
            async with http.ws_connect(url) as ws:
                await ws.send_json({"type": "hello", "visitor_token": self.token})
                welcome = await ws.receive_json(timeout=30)
                assert welcome["type"] == "welcome"
                self.token = welcome["visitor_token"]
                pending = list(self.unacked.items())[:stop_after]
                for client_id, text in pending:
                    await ws.send_json({"type": "message", "text": text, "client_id": client_id})
                waiting = {cid for cid, _ in pending}
                while waiting:
                    frame = await ws.receive_json(timeout=30)
                    if frame["type"] == "ack":
                        self.acked[frame["client_id"]] = frame["id"]
                        self.unacked.pop(frame["client_id"], None)
                        waiting.discard(frame["client_id"])
        except (aiohttp.ClientError, TypeError, TimeoutError, ConnectionError):
            pass  # the hub died under us: whatever was not acked is resent later


async def test_sigkill_under_load_loses_and_doubles_nothing(mongo_uri, db_name, db) -> None:
    customers = [Customer(i) for i in range(CUSTOMERS)]
    hub = HubProcess(mongo_uri, db_name)
    await hub.start()
    try:
        async with aiohttp.ClientSession() as http:
            # Every customer gets a visitor token first, then all send at once.
            await asyncio.gather(*(c.session(http, hub.ws_url, 0) for c in customers))
            assert all(c.token for c in customers)
            senders = [asyncio.create_task(c.session(http, hub.ws_url, None)) for c in customers]

            async def some_acked() -> bool:
                return sum(len(c.acked) for c in customers) >= 100

            await wait_for(some_acked, within=30)
            await hub.kill()  # SIGKILL with most messages still in flight
            for task in senders:
                with contextlib.suppress(Exception):
                    await task
        acked_before_crash = {cid: mid for c in customers for cid, mid in c.acked.items()}
        in_flight = sum(len(c.unacked) for c in customers)
        assert in_flight > 0, "the crash came too late to test anything"

        stored = await db.messages.find({}, {"client_id": 1}).to_list()
        stored_ids = {doc["_id"] for doc in stored}
        assert set(acked_before_crash.values()) <= stored_ids  # every ack was durable

        await hub.start()
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(c.session(http, hub.ws_url, None) for c in customers))
        assert all(not c.unacked for c in customers)
    finally:
        await hub.stop()

    docs = await db.messages.find({"direction": "inbound"}).to_list()
    by_client: dict[str, list[Any]] = {}
    for doc in docs:
        by_client.setdefault(doc["client_id"], []).append(doc["_id"])
    assert len(docs) == CUSTOMERS * PER_CUSTOMER
    assert all(len(ids) == 1 for ids in by_client.values())
    for customer in customers:
        for client_id, message_id in customer.acked.items():
            assert by_client[client_id] == [message_id]
    # Acknowledged before the crash and resent after: the same stored message both times.
    for client_id, message_id in acked_before_crash.items():
        assert by_client[client_id] == [message_id]
    duplicated = sum(len(ids) - 1 for ids in by_client.values())
    print(  # the counts, for the record (pytest -s)
        f"sent {CUSTOMERS * PER_CUSTOMER}, acked before the kill {len(acked_before_crash)}, "
        f"unacked at the kill {in_flight}, stored {len(docs)}, duplicated {duplicated}, "
        f"lost {CUSTOMERS * PER_CUSTOMER - len(by_client)}"
    )
