"""Several hub processes (``chorus serve``) on one database, for cross-instance tests."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from hub.config.model import ChorusConfig
from tests.helpers.hub import wait_for

ROOT = Path(__file__).resolve().parents[2]


def two_free_ports() -> tuple[int, int]:
    """Two distinct free ports: both are held while the second is picked."""
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        second.bind(("127.0.0.1", 0))
        return first.getsockname()[1], second.getsockname()[1]


def serve_env(config: ChorusConfig, tmp_path: Path) -> dict[str, str]:
    """The environment of a ``chorus serve`` on the test database, with the test's secret."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CHORUS_MONGO__URI": config.mongo.uri,
        "CHORUS_MONGO__DATABASE": config.mongo.database,
        "CHORUS_AUTH__JWT_SECRET": config.auth.jwt_secret.get_secret_value(),
        "CHORUS_AUTH__JWT_SECRET_FILE": str(tmp_path / "jwt_secret"),
        "CHORUS_OUTBOX__POLL_SECONDS": "0.5",
        "CHORUS_LOGGING__LEVEL": "WARNING",
        "CHORUS_BOT__ENABLED": "false",
    }


async def serve(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


@asynccontextmanager
async def two_hubs(env: dict[str, str]) -> AsyncIterator[tuple[str, str]]:
    """Two hub processes, ready (``/readyz``): their base URLs. Both end with the block."""
    ports = two_free_ports()
    procs = [await serve(env, port) for port in ports]
    a, b = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        async with aiohttp.ClientSession() as http:

            async def ready(base: str) -> bool:
                try:
                    async with http.get(f"{base}/readyz") as resp:
                        return resp.status == 200
                except aiohttp.ClientConnectionError:
                    return False

            await wait_for(lambda: ready(a), within=30)
            await wait_for(lambda: ready(b), within=30)
        yield a, b
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            await proc.wait()
