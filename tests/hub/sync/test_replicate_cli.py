"""``chorus replicate`` reports progress only when something new was applied."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from storage.embedded import EmbeddedMongo
from tests.helpers.embedded_hub import ROOT, chorus_env
from tests.helpers.hub import wait_for

APPLIED = re.compile(r"applied (\d+) more changes \((\d+) since start\)")


def replicate(
    env: dict[str, str], target: str, database: str, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "replicate", "--to", target,
             "--target-database", database, "--status-seconds", "0.05"],
            cwd=ROOT, env=env, stderr=out,
        )  # fmt: skip


async def test_status_lines_count_each_change_once(
    tmp_path: Path, mongo_uri: str, db_name: str, db: Any, replica_server: EmbeddedMongo
) -> None:
    env = chorus_env(tmp_path, 0, CHORUS_MONGO__URI=mongo_uri, CHORUS_MONGO__DATABASE=db_name)
    await db.messages.insert_one({"_id": "before", "text": "copied, not applied"})
    log = tmp_path / "replicate.log"
    proc = replicate(env, replica_server.uri, db_name, log)

    async def lines(containing: str) -> list[str]:
        assert proc.poll() is None, log.read_text()
        text = await asyncio.to_thread(log.read_text)
        return [line for line in text.splitlines() if containing in line]

    try:
        await wait_for(lambda: lines("then streaming"), within=60)
        await db.messages.insert_one({"_id": "one", "text": "first change"})
        await wait_for(lambda: lines("(1 since start)"), within=30)
        await db.messages.insert_one({"_id": "two", "text": "second change"})
        await wait_for(lambda: lines("(2 since start)"), within=30)
        reports = [m.groups() for line in await lines("applied") if (m := APPLIED.search(line))]
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.to_thread(proc.wait, 30)
    # Intervals with nothing new printed nothing; each line counts what is new since the last.
    assert reports == [("1", "1"), ("1", "2")], log.read_text()
