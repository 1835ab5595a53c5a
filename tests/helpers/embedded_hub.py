"""``chorus`` as a person runs it: real processes, the embedded database in a temp directory.

Nothing here sets ``mongo.uri``: the hub starts its own SecantusDB, as ``make run`` does,
so these tests see the data directory's lock and the record of who holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from storage.embedded import free_port
from tests.helpers.hub import wait_for

ROOT = Path(__file__).resolve().parents[2]


def chorus_env(data: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a user whose venv is active and whose data lives in ``data``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    env.update(
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
        CHORUS_HTTP__PORT=str(port),
        CHORUS_MONGO__EMBEDDED__DATA_DIR=str(data / "db"),
        CHORUS_AUTH__JWT_SECRET_FILE=str(data / "jwt_secret"),
        CHORUS_LOGGING__LEVEL="WARNING",
    )
    env.update(extra)
    return env


async def chorus(
    env: dict[str, str], *args: str, stdin: str = "", within: float = 90
) -> subprocess.CompletedProcess[str]:
    """Run one ``chorus`` command to completion (off the event loop)."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "hub.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=within,
    )


class EmbeddedHub:
    """One ``chorus serve`` on a free port with the embedded database under ``data``."""

    def __init__(self, data: Path, **extra: str) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = chorus_env(data, self.port, **extra)
        self.record = data / "db.running.json"
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        self.data.mkdir(parents=True, exist_ok=True)
        with (self.data / "serve.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "serve"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        self.proc = self.spawn()
        async with aiohttp.ClientSession() as session:

            async def ready() -> bool:
                assert self.proc is not None and self.proc.poll() is None, self.log()
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(self.url + "/readyz") as resp:
                        return resp.status == 200
                return False

            await wait_for(ready, within=90)

    def log(self) -> str:
        path = self.data / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def recorded(self) -> dict[str, Any]:
        return dict(json.loads(self.record.read_text()))

    async def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.proc.wait, 30)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait, 30)
