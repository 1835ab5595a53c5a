"""The CLI says what is wrong in one line where it printed a traceback, and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from storage.embedded import free_port
from tests.helpers.embedded_hub import ROOT, chorus, chorus_env
from tests.helpers.hub import wait_for


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


async def test_version() -> None:
    result = await chorus(chorus_env(Path("/nonexistent"), 0), "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"chorus, version {version('chorus-hub')}"


async def test_chat_with_no_hub_says_so(tmp_path: Path) -> None:
    url = f"ws://127.0.0.1:{free_port()}/chat"
    result = await chorus(
        chorus_env(tmp_path, 0), "chat", "--url", url, "--token-file", str(tmp_path / "t")
    )
    line = one_line(result)
    assert f"cannot reach a hub at {url}" in line and "chorus serve" in line


async def test_serve_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await chorus(chorus_env(tmp_path / "data", port), "serve", within=120)
    line = one_line(result)
    assert f"127.0.0.1:{port} is already in use" in line and "--port" in line
    assert not (tmp_path / "data" / "db.running.json").exists()


async def test_sync_verify_and_replicate_with_a_bad_replica_uri(
    tmp_path: Path, mongo_uri: str, db_name: str
) -> None:
    env = chorus_env(
        tmp_path,
        0,
        CHORUS_MONGO__URI=mongo_uri,
        CHORUS_MONGO__DATABASE=db_name,
        CHORUS_MONGO__SERVER_SELECTION_TIMEOUT_MS="300",
    )
    unreachable = f"mongodb://127.0.0.1:{free_port()}/"
    for command in (["sync", "verify"], ["replicate"]):
        line = one_line(await chorus(env, *command, "--to", unreachable))
        assert f"cannot reach the replica (--to) at {unreachable}" in line, line
        line = one_line(await chorus(env, *command, "--to", "http://127.0.0.1:27017/"))
        assert "the replica (--to) is not a valid MongoDB URI" in line, line


async def test_chat_stops_on_ctrl_c_at_the_prompt(
    client: TestClient,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    url = str(client.make_url("/chat")).replace("http://", "ws://")
    token_file = tmp_path / "visitor"
    returncode, stderr = await _interrupted_chat(
        url,
        lambda: token_file.exists(),
        token_file,
        within=10,  # welcomed
    )
    assert returncode == 130
    assert b"Traceback" not in stderr


async def test_ctrl_c_quits_even_when_the_hub_never_answers_the_close(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    async def silent_hub(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoclose=False)
        await ws.prepare(request)
        await ws.receive()  # the hello
        await ws.send_json({"type": "welcome", "visitor_id": "v", "visitor_token": "t"})
        await asyncio.Event().wait()  # never reads again, so never answers a close
        return ws

    app = web.Application()
    app.router.add_get("/chat", silent_hub)
    server = await aiohttp_server(app)
    token_file = tmp_path / "visitor"
    returncode, stderr = await _interrupted_chat(  # the close waits 2 s, not aiohttp's 10
        str(server.make_url("/chat")), lambda: _has_text(token_file), token_file, within=8
    )
    assert returncode == 130
    assert b"Traceback" not in stderr


async def _interrupted_chat(
    url: str, welcomed: Callable[[], bool], token_file: Path, *, within: float
) -> tuple[int | None, bytes]:
    """``chorus chat`` sent SIGINT once ``welcomed`` holds (stdin stays open: it is waiting
    for a line); its exit code and stderr, if it ended ``within`` seconds."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "chat", "--url", url, "--token-file", str(token_file),
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_for(lambda: asyncio.to_thread(welcomed), within=60)
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(within):
            _, stderr = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode, stderr


def _has_text(path: Path) -> bool:
    return path.exists() and bool(path.read_text())
