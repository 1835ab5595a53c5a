"""Idle connections: resident memory per customer WebSocket and heartbeat CPU.

Baseline: a bare aiohttp WebSocket server holding the same number of sockets.
Run: ``python -m bench.connections [--sockets 10000] [--idle-seconds 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import time

import aiohttp

from bench.harness import HubProcess, Row, database, print_table
from bench.latency import _relay_main
from storage.embedded import free_port

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def _hold(url: str, count: int, hello: bool, pid: int, idle: float) -> tuple[float, float]:
    before = rss_kib(pid)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        sockets = []
        for start in range(0, count, 500):
            batch = await asyncio.gather(
                *(session.ws_connect(url, autoping=True) for _ in range(min(500, count - start)))
            )
            if hello:
                for ws in batch:
                    await ws.send_json({"type": "hello"})
            sockets += batch
        # Read what the server sent (welcome frames) so client buffers don't grow.
        if hello:
            await asyncio.gather(*(ws.receive() for ws in sockets))
        await asyncio.sleep(1.0)  # let the server settle its allocations before measuring
        after = rss_kib(pid)
        cpu_start, wall_start = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(idle)  # idle window: only heartbeats flow
        cpu = (cpu_seconds(pid) - cpu_start) / (time.monotonic() - wall_start)
        for ws in sockets:
            await ws.close()
    return (after - before) / count, cpu * 100


def run(count: int, idle: float) -> list[Row]:
    port = free_port()
    relay = multiprocessing.get_context("spawn").Process(
        target=_relay_main, args=(port,), daemon=True
    )
    relay.start()
    try:
        time.sleep(1.5)
        assert relay.pid is not None
        base_kib, base_cpu = asyncio.run(
            _hold(f"ws://127.0.0.1:{port}/agent", count, False, relay.pid, idle)
        )
    finally:
        relay.terminate()
    env = {"CHORUS_WEB__HEARTBEAT_SECONDS": "5"}
    with database() as server, HubProcess(server.uri, extra_env=env) as hub:
        assert hub.process is not None
        url = hub.base_url.replace("http", "ws", 1) + "/chat"
        kib, cpu = asyncio.run(_hold(url, count, True, hub.process.pid, idle))
    return [
        Row(f"memory per idle socket ({count:,})", kib, "KiB", base_kib, "RSS growth / sockets"),
        Row("heartbeat CPU (5 s pings)", cpu, "% core", base_cpu, f"over {idle:.0f}s idle"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args()
    print_table(run(args.sockets, args.idle_seconds))


if __name__ == "__main__":
    main()
