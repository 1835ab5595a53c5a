"""End-to-end latency: customer socket → stored → agent socket, at a fixed offered load.

Baseline: a bare aiohttp WebSocket relay (customer socket → agent socket, no storage) on
the same machine. Run: ``python -m bench.latency [--rate 1000] [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from aiohttp import web

from bench.harness import HubProcess, Row, database, print_table
from hub.access.tokens import TokenService
from hub.config.model import load_config
from storage.embedded import free_port


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _drive(
    customer_url: str,
    agent_url: str,
    auth: dict[str, Any] | None,
    rate: int,
    seconds: float,
    customers: int = 50,
) -> list[float]:
    sent: dict[str, float] = {}
    latencies: list[float] = []
    total = int(rate * seconds)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        agent = await session.ws_connect(agent_url, max_msg_size=0)
        if auth is not None:
            await agent.send_json(auth)
        done = asyncio.Event()
        # The hub's feed says "ready" once the agent is subscribed; probes sent earlier
        # would be missed. The bare relay subscribes its agent before the handshake ends.
        subscribed = asyncio.Event()
        if auth is None:
            subscribed.set()

        async def read_agent() -> None:
            async for msg in agent:
                frame = msg.json()
                if frame.get("type") == "ready":
                    subscribed.set()
                text = (frame.get("message") or {}).get("text") or frame.get("text")
                if text in sent:
                    latencies.append(time.perf_counter() - sent.pop(text))
                    if len(latencies) == total:
                        done.set()

        reader = asyncio.create_task(read_agent())
        await asyncio.wait_for(subscribed.wait(), timeout=60)
        sockets = [await session.ws_connect(customer_url) for _ in range(customers)]
        start = time.perf_counter()
        for n in range(total):
            # Open-loop pacing: message n leaves at start + n / rate, whatever came back.
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            text = f"latency-probe-{n}"
            sent[text] = time.perf_counter()
            await sockets[n % customers].send_json(
                {"type": "message", "text": text, "client_id": text}
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=60)
        reader.cancel()
        for ws in sockets:
            await ws.close()
        await agent.close()
    return latencies


def _relay_main(port: int, ready: Connection) -> None:
    agents: set[web.WebSocketResponse] = set()

    async def customer(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            frame = msg.json()
            for agent in list(agents):
                await agent.send_json({"type": "message", "text": frame["text"]})
        return ws

    async def agent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=5.0)  # as the hub's sockets in bench.connections
        await ws.prepare(request)
        agents.add(ws)
        async for _ in ws:
            pass
        agents.discard(ws)
        return ws

    async def serve() -> None:
        app = web.Application()
        app.router.add_get("/chat", customer)
        app.router.add_get("/agent", agent)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.send("listening")  # the parent connects only after this: no race with start-up
        await asyncio.Event().wait()  # until the parent terminates this process

    asyncio.run(serve())


@contextlib.contextmanager
def relay(timeout: float = 120.0) -> Iterator[int]:
    """The bare relay in its own process, yielding its port once it accepts connections."""
    port = free_port()
    parent, child = multiprocessing.get_context("spawn").Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(
        target=_relay_main, args=(port, child), daemon=True
    )
    process.start()
    child.close()
    try:
        # A spawned interpreter importing aiohttp can take seconds on a loaded machine.
        if not parent.poll(timeout):
            raise RuntimeError(f"the relay did not start listening within {timeout:.0f}s")
        parent.recv()
        yield port
    finally:
        process.terminate()
        process.join(10)


def run(rate: int, seconds: float) -> list[Row]:
    rows = []
    with relay() as port:
        base = asyncio.run(
            _drive(
                f"ws://127.0.0.1:{port}/chat", f"ws://127.0.0.1:{port}/agent", None, rate, seconds
            )
        )
    with database() as server, HubProcess(server.uri) as hub:
        secret = hub.extra_env.get("CHORUS_AUTH__JWT_SECRET", "bench-secret-" + "x" * 32)
        tokens = TokenService(load_config(None, environ={"CHORUS_AUTH__JWT_SECRET": secret}).auth)
        auth = {"type": "auth", "token": tokens.issue("bench", "agent", 3600)}
        ws = hub.base_url.replace("http", "ws", 1)
        got = asyncio.run(_drive(f"{ws}/chat", f"{ws}/inbox/ws", auth, rate, seconds))
    total = int(rate * seconds)
    for q in (0.50, 0.95, 0.99):
        rows.append(
            Row(
                f"e2e latency p{int(q * 100)} @ {rate}/s",
                _percentile(got, q) * 1000,
                "ms",
                _percentile(base, q) * 1000,
                f"{len(got)}/{total} delivered",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=1000, help="messages per second offered")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print_table(run(args.rate, args.seconds))


if __name__ == "__main__":
    main()
