"""A hub in its own process, for tests that kill or starve it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from storage.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


class HubProcess:
    def __init__(self, mongo_uri: str, database: str, **env: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "CHORUS_MONGO__URI": mongo_uri,
            "CHORUS_MONGO__DATABASE": database,
            "CHORUS_HTTP__PORT": str(self.port),
            "CHORUS_AUTH__JWT_SECRET": "test-secret-" + "x" * 32,
            "CHORUS_LOGGING__LEVEL": "WARNING",
            "CHORUS_BOT__ENABLED": "false",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/chat"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            cwd=ROOT,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(60), aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"hub exited with {self.process.returncode}")
                try:
                    async with session.get(f"{self.url}/readyz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await self.process.wait()
            except TimeoutError:
                await self.kill()
