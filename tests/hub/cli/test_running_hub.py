"""Commands while the hub runs: they use its embedded database instead of a second one.

The embedded server locks ``data/db``; before, every command that touched the database
started a second server on it and died with a traceback, and so did a second ``serve``.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.ops.database import _alive
from tests.helpers.embedded_hub import EmbeddedHub, chorus


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[EmbeddedHub]:
    running = EmbeddedHub(tmp_path / "data")
    await running.start()
    yield running
    await running.kill()
    # A server orphaned by a test's kill -9 must not outlive the test.
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        os.killpg(running.recorded()["server_pid"], signal.SIGKILL)


async def test_agent_add_backup_and_db_init_work_while_the_hub_runs(hub: EmbeddedHub) -> None:
    added = await chorus(
        hub.env, "agent", "add", "--email", "ann@example.org", "--name", "Ann",
        "--password-stdin", stdin="a long passphrase\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "agent ann <ann@example.org> (agent) ready" in added.stdout

    archive_dir = str(hub.data / "archive")
    backup = await chorus({**hub.env, "CHORUS_ARCHIVE__LOCAL_DIR": archive_dir}, "backup")
    assert backup.returncode == 0, backup.stderr
    init = await chorus(hub.env, "db", "init")
    assert init.returncode == 0, init.stderr
    assert "Traceback" not in added.stderr + backup.stderr + init.stderr

    # The agent went into the hub's own database: it can log in through the hub.
    import aiohttp

    async with aiohttp.ClientSession() as session:
        login = {"email": "ann@example.org", "password": "a long passphrase"}
        async with session.post(hub.url + "/api/v1/auth/login", json=login) as resp:
            assert resp.status == 200, await resp.text()
    # The hub still owns the record: the commands neither replaced nor removed it.
    assert hub.proc is not None and hub.recorded()["owner_pid"] == hub.proc.pid


async def test_a_second_serve_is_refused_in_one_line(hub: EmbeddedHub) -> None:
    second = EmbeddedHub(hub.data)  # same data directory, another port
    result = await chorus(second.env, "serve", within=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "a hub is already running on" in lines[0]
    assert hub.url in lines[0]


async def test_a_clean_stop_removes_the_record(hub: EmbeddedHub) -> None:
    assert hub.record.exists()
    assert await hub.stop() == 0
    assert not hub.record.exists()


async def test_a_record_left_by_kill_9_is_cleared_and_its_orphan_stopped(
    hub: EmbeddedHub,
) -> None:
    orphan = hub.recorded()["server_pid"]
    await hub.kill()
    assert hub.record.exists() and _alive(orphan)  # the database outlived its hub

    added = await chorus(
        hub.env, "agent", "add", "--email", "bo@example.org", "--name", "Bo",
        "--password-stdin", stdin="another passphrase\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert not _alive(orphan)
    assert not hub.record.exists()  # the command started its own server and cleaned up

    again = EmbeddedHub(hub.data)
    try:
        await again.start()
        assert again.proc is not None and again.recorded()["owner_pid"] == again.proc.pid
    finally:
        await again.stop()
