"""The configured database for one command, and who is running the embedded server.

The embedded server locks its data directory, so only one process may run it. Whoever
starts it (``chorus serve`` or a one-off command) writes a small record beside the data
directory (``data/db.running.json``: pids, the server's URI, the hub's address) and removes
it on a clean stop. Other commands read the record and use that server instead of starting
a second one; a second ``chorus serve`` is refused with the hub's address. A record whose
owner died (``kill -9``) is stale: its orphaned server is stopped and the record removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path

from hub.config.model import ChorusConfig
from storage.embedded import EmbeddedMongo
from storage.mongo import MongoStore, make_client

SERVE = "chorus serve"


@dataclass(frozen=True, slots=True)
class RunningEmbedded:
    """What the record says: the embedded server's pid and URI, and the process that owns it."""

    owner: str  # "chorus serve" or "chorus command"
    owner_pid: int
    server_pid: int
    uri: str
    host: str
    port: int
    http: str | None  # the hub's address when the owner is ``chorus serve``

    def describe(self) -> str:
        where = f" at {self.http}" if self.http else ""
        return f"{self.owner} (pid {self.owner_pid}){where}"


class DatabaseInUse(RuntimeError):
    """Another live process runs the embedded server on this data directory."""

    def __init__(self, data_dir: str, running: RunningEmbedded) -> None:
        self.running = running
        if running.owner == SERVE:
            text = (
                f"a hub is already running on {data_dir}: {running.describe()}; "
                "stop it first, or give this one another mongo.embedded.data_dir"
            )
        else:
            text = (
                f"the embedded database in {data_dir} is in use by {running.describe()}; "
                "run this again when it has finished"
            )
        super().__init__(text)


def record_path(config: ChorusConfig) -> Path | None:
    """Where the record for the configured embedded server lives (None: nothing to record)."""
    path = Path(config.mongo.embedded.data_dir)
    if config.mongo.uri or str(path) == ":memory:":
        return None
    return path.parent / f"{path.name}.running.json"


def running_embedded(config: ChorusConfig) -> RunningEmbedded | None:
    """The live owner of the configured embedded server, after clearing a stale record."""
    path = record_path(config)
    if path is None:
        return None
    try:
        running = RunningEmbedded(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        path.unlink(missing_ok=True)  # unreadable: written by nothing we know
        return None
    answering = _answers(running.host, running.port)
    if _alive(running.owner_pid) and answering:
        return running
    if answering and _alive(running.server_pid):
        _stop_orphan(running.server_pid)  # its owner was killed; it still holds the lock
    path.unlink(missing_ok=True)
    return None


async def start_recorded(
    embedded: EmbeddedMongo, config: ChorusConfig, owner: str, http: str | None = None
) -> None:
    """Start the embedded server for this process and record it, unless another owns it."""
    path = record_path(config)
    running = await asyncio.to_thread(running_embedded, config)
    if running is not None:
        raise DatabaseInUse(str(config.mongo.embedded.data_dir), running)
    await embedded.astart(config.mongo.embedded.start_timeout_seconds)
    if path is None or embedded.process is None:
        return
    record = RunningEmbedded(
        owner, os.getpid(), embedded.process.pid, embedded.uri, embedded.host, embedded.port, http
    )
    await asyncio.to_thread(_write_atomically, path, json.dumps(asdict(record)))


async def stop_recorded(embedded: EmbeddedMongo, config: ChorusConfig) -> None:
    """Remove this process's record, then stop the server it started."""
    path = record_path(config)
    if path is not None:
        with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
            if json.loads(path.read_text()).get("owner_pid") == os.getpid():
                path.unlink()
    await embedded.astop()


@contextlib.asynccontextmanager
async def connected(config: ChorusConfig) -> AsyncIterator[MongoStore]:
    """Connect to ``mongo.uri``, else to the running embedded server, else start one."""
    embedded = None
    uri = config.mongo.uri
    if not uri:
        running = await asyncio.to_thread(running_embedded, config)
        if running is not None:
            uri = running.uri
        else:
            embedded = EmbeddedMongo(config.mongo.embedded.data_dir, config.mongo.embedded.port)
            await start_recorded(embedded, config, "chorus command")
            uri = embedded.uri
    mongo = MongoStore(make_client(uri), config.mongo.database, config.mongo.write_concern)
    try:
        yield mongo
    finally:
        await mongo.close()
        if embedded is not None:
            await stop_recorded(embedded, config)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(text)
    os.replace(scratch, path)


def _alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (its lock is gone once it is)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust the signal check
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _stop_orphan(pid: int, timeout: float = 15.0) -> None:
    """SIGTERM the orphaned server's process group, SIGKILL it if it lingers, wait for it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)  # not on an event loop: callers use asyncio.to_thread
        if not _alive(pid):
            return
