"""SIGTERM under load: nothing acknowledged is lost or doubled, customers reconnect.

The hub runs as a real ``chorus serve`` process. Customers keep sending with client ids;
the hub is told to stop; every socket must be closed with 1012 after its acks were
written, the process must exit within its grace period, and a second process must take
the customers back (visitor tokens) and their resent, unacknowledged messages, so each
message ends up stored exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from storage.embedded import free_port
from tests.helpers.hub import wait_for

ROOT = Path(__file__).resolve().parents[3]
GRACE_SECONDS = 5.0
WINDOW = 3  # messages a customer may have sent but not yet seen acknowledged


class HubProcess:
    """One ``python -m hub.cli serve`` on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, session: aiohttp.ClientSession) -> None:
        async def healthy() -> bool:
            assert self.proc.poll() is None, "the hub exited during start-up"
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(self.url + "/readyz") as resp:
                    return resp.status == 200
            return False

        await wait_for(healthy, within=60)

    async def wait_exit(self, within: float) -> int:
        return await asyncio.to_thread(self.proc.wait, within)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Customer:
    """A web chat customer that numbers its messages and remembers which were acked."""

    name: str
    token: str | None = None
    visitor_id: str | None = None
    sent: list[str] = field(default_factory=list)
    acked: dict[str, str] = field(default_factory=dict)
    close_codes: list[int | None] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    resumed: list[bool] = field(default_factory=list)

    @property
    def unacked(self) -> list[str]:
        return [cid for cid in self.sent if cid not in self.acked]

    async def session(
        self, http: aiohttp.ClientSession, url: str, resend: list[str], new: int | None
    ) -> None:
        """Connect, resend ``resend``, then send ``new`` more (None: until disconnected)."""
        async with http.ws_connect(url + "/chat") as ws:
            await ws.send_json({"type": "hello", "visitor_token": self.token})
            credit = asyncio.Semaphore(WINDOW)
            welcomed = asyncio.Event()
            sender = asyncio.create_task(self._send(ws, credit, welcomed, resend, new))
            try:
                async for msg in ws:
                    frame = msg.json()
                    if frame["type"] == "welcome":
                        self.token, self.visitor_id = frame["visitor_token"], frame["visitor_id"]
                        self.resumed.append(frame["resumed"])
                        welcomed.set()
                    elif frame["type"] == "ack":
                        self.acked[frame["client_id"]] = frame["id"]
                        credit.release()
                        if sender.done() and not self.unacked:
                            await ws.close()
                    elif frame["type"] == "error":
                        self.errors.append(frame)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
            self.close_codes.append(ws.close_code)

    async def _send(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        credit: asyncio.Semaphore,
        welcomed: asyncio.Event,
        resend: list[str],
        new: int | None,
    ) -> None:
        await welcomed.wait()
        count = 0
        while True:
            if resend:
                client_id = resend.pop(0)
            elif new is None or count < new:
                client_id = f"{self.name}-{len(self.sent)}"
                self.sent.append(client_id)
                count += 1
            else:
                break
            await credit.acquire()
            try:
                await ws.send_json({"type": "message", "text": client_id, "client_id": client_id})
            except ConnectionError:
                return
        if not self.unacked:  # the last ack came before this task finished
            await ws.close()


async def test_sigterm_under_load_loses_nothing_and_customers_resume(
    mongo_uri, db_name, db, tmp_path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env |= {
        "CHORUS_MONGO__URI": mongo_uri,
        "CHORUS_MONGO__DATABASE": db_name,
        "CHORUS_AUTH__JWT_SECRET": "restart-test-secret-" + "y" * 32,
        "CHORUS_AUTH__JWT_SECRET_FILE": str(tmp_path / "jwt_secret"),
        "CHORUS_HTTP__SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
        "CHORUS_LOGGING__LEVEL": "INFO",
    }
    log_path = tmp_path / "hub.log"
    customers = [Customer(f"cust{n}") for n in range(4)]
    first = HubProcess(env, log_path)
    second: HubProcess | None = None
    try:
        async with aiohttp.ClientSession() as http:
            await first.ready(http)
            load = [asyncio.create_task(c.session(http, first.url, [], None)) for c in customers]

            async def under_load() -> bool:
                return all(len(c.acked) >= 5 for c in customers)

            await wait_for(under_load, within=30)
            first.proc.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*load), timeout=GRACE_SECONDS + 5)
            assert await first.wait_exit(GRACE_SECONDS + 5) == 0
            stopped_in = time.monotonic() - stopping

            assert [c.close_codes for c in customers] == [[1012]] * len(customers)
            assert all(not c.errors for c in customers), [c.errors for c in customers]
            await _assert_stored_once(db, customers, acked_only=True)

            second = HubProcess(env, log_path)
            await second.ready(http)
            resumed = (c.session(http, second.url, c.unacked, 3) for c in customers)
            await asyncio.wait_for(asyncio.gather(*resumed), timeout=30)
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert stopped_in < GRACE_SECONDS, log_path.read_text()[-3000:]
    for customer in customers:
        assert customer.resumed == [False, True]
        assert customer.close_codes[-1] == 1000
        assert not customer.errors and not customer.unacked
    await _assert_stored_once(db, customers, acked_only=False)


async def _assert_stored_once(db: Any, customers: list[Customer], *, acked_only: bool) -> None:
    stored = [doc async for doc in db.messages.find({"direction": "inbound"})]
    copies = Counter(doc["external_id"] for doc in stored)
    assert max(copies.values()) == 1, copies.most_common(3)
    ids = {doc["external_id"]: doc["_id"] for doc in stored}
    for customer in customers:
        for client_id, message_id in customer.acked.items():
            assert ids[f"{customer.visitor_id}:{client_id}"] == message_id
        if not acked_only:
            keys = {f"{customer.visitor_id}:{cid}" for cid in customer.sent}
            assert keys <= set(ids)
    if not acked_only:
        assert len(stored) == sum(len(c.sent) for c in customers)
