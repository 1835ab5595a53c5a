"""Shared benchmark plumbing: a database server, a hub process, and a results table."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

from storage.embedded import EmbeddedMongo, free_port


@contextlib.contextmanager
def database(on_disk: bool = True, path: str | None = None) -> Iterator[EmbeddedMongo]:
    """A SecantusDB server for one benchmark, on disk like a real install (in ``path``,
    kept afterwards, when given: a large data set is then populated once)."""
    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
        where = path or (os.path.join(tmp, "db") if on_disk else ":memory:")
        server = EmbeddedMongo(where)
        server.start(timeout=60)
        try:
            yield server
        finally:
            server.stop()


@dataclass
class HubProcess:
    """``chorus serve`` in its own process, as it runs in production."""

    mongo_uri: str
    database: str = "bench"
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HubProcess:
        env = {
            **os.environ,
            "CHORUS_MONGO__URI": self.mongo_uri,
            "CHORUS_MONGO__DATABASE": self.database,
            "CHORUS_HTTP__PORT": str(self.port),
            "CHORUS_AUTH__JWT_SECRET": "bench-secret-" + "x" * 32,
            "CHORUS_LOGGING__LEVEL": "WARNING",
            "CHORUS_BOT__ENABLED": "false",
            # Load generators speak from one address, far above one visitor's pace: lift the
            # web chat volume limits (a benchmark may still set its own in extra_env).
            "CHORUS_WEB__MAX_CONNECTIONS_PER_ADDRESS": "1000000",
            "CHORUS_WEB__MESSAGE_BURST": "1000000",
            "CHORUS_WEB__MESSAGE_REFILL_PER_SECOND": "1000000",
            **self.extra_env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.base_url}/readyz", timeout=1) as resp,  # noqa: S310
            ):
                if resp.status == 200:
                    return self
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("hub did not become ready")

    def add_agent(self, agent_id: str, role: str) -> None:
        """Create the agent a benchmark's token names: the API refuses tokens naming nobody."""
        from pymongo import MongoClient

        with MongoClient(self.mongo_uri) as client:
            client[self.database]["agents"].update_one(
                {"_id": agent_id},
                {"$setOnInsert": {"name": agent_id, "role": role, "created_at": datetime.now(UTC)}},
                upsert=True,
            )

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def message_doc(
    message_id: str,
    conversation_id: str,
    contact_id: str,
    external_id: str,
    text: str,
    created_at: datetime,
    *,
    direction: str = "inbound",
    client_id: str | None = None,
    raw: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``messages`` document as the hub stores a web chat message, for loading directly."""
    return {
        "_id": message_id,
        "conversation_id": conversation_id,
        "contact_id": contact_id,
        "channel": "web",
        "external_id": external_id,
        "direction": direction,
        "author": {"kind": "contact", "id": contact_id, "name": ""},
        "text": text,
        "attachments": [],
        "created_at": created_at,
        "delivery": None,
        "private": False,
        "client_id": client_id,
        "raw": raw or {},
    }


@dataclass
class Row:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    note: str = ""

    @property
    def ratio(self) -> str:
        if not self.baseline:
            return ""
        return f"{self.value / self.baseline:.2f}"


def print_table(rows: list[Row]) -> None:
    header = f"{'benchmark':<44} {'value':>12} {'unit':<10} {'baseline':>12} {'ratio':>6}  note"
    print(header)
    print("-" * len(header))
    for row in rows:
        digits = 2 if abs(row.value) < 10 else 1  # commands per message are fractions
        base = f"{row.baseline:,.{digits}f}" if row.baseline is not None else ""
        value = f"{row.value:>12,.{digits}f}"
        print(f"{row.name:<44} {value} {row.unit:<10} {base:>12} {row.ratio:>6}  {row.note}")


class FindRecorder(monitoring.CommandListener):
    """The ``find`` commands a client sends to ``collection``, to replay under ``explain``."""

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self.sent: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command["find"] == self.collection:
            keep = ("find", "filter", "sort", "limit")
            self.sent.append({k: event.command[k] for k in keep if k in event.command})

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    async def examined(self, db: AsyncDatabase[dict[str, Any]]) -> tuple[int, int]:
        """(documents examined, queries) over what was sent since the last call, as
        ``explain`` (``executionStats``) counts them; the record starts again."""
        sent, self.sent = self.sent, []
        total = 0
        for command in sent:
            plan = await db.command({"explain": command, "verbosity": "executionStats"})
            total += int(plan["executionStats"]["totalDocsExamined"])
        return total, len(sent)
