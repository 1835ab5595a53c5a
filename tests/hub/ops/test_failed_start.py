"""A start that fails leaves nothing behind, and config paths mean what the file says.

``chorus serve`` runs in its own process from a folder that has no ``knowledge/``; its
config names a knowledge file beside the config that does not exist. The command must
fail naming that file (resolved against the config's folder, not the working directory)
and leave no embedded database running on its port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

import yaml

from hub.config.model import load_config
from hub.config.paths import PACKAGE_ROOT
from storage.embedded import free_port


def _processes_using(marker: str) -> list[int]:
    """Pids whose command line mentions ``marker`` (this test's own data folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(entry.name))
    return pids


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _write_config(folder: Path, db_port: int) -> Path:
    path = folder / "conf" / "config.yaml"
    path.parent.mkdir()
    settings = {
        "http": {"port": free_port()},
        "mongo": {"uri": "", "embedded": {"port": db_port, "data_dir": "db"}},
        "auth": {"jwt_secret": "failed-start-" + "x" * 40},
        "bot": {"enabled": True, "knowledge_files": ["kb/missing.yaml"]},
    }
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


async def test_failed_start_stops_the_embedded_database(tmp_path: Path) -> None:
    db_port = free_port()
    config = _write_config(tmp_path, db_port)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    data_dir = str(config.parent / "db")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "serve",
        "--config",
        str(config),
        cwd=elsewhere,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(90):
            _, stderr = await proc.communicate()
        assert proc.returncode == 1
        assert f"knowledge file not found: {config.parent / 'kb' / 'missing.yaml'}" in (
            stderr.decode()
        )
        assert (config.parent / "db").is_dir()  # the database did start, beside the config
        assert _processes_using(data_dir) == []
        assert not _port_open(db_port)
    finally:
        for pid in _processes_using(data_dir):  # what a leak left: only this test's server
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_relative_paths_follow_the_config_file(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "site" / "config.yaml"
    config.parent.mkdir()
    config.write_text(
        yaml.safe_dump(
            {
                "bot": {"knowledge_files": ["kb/faq.yaml", "/abs/other.yaml"]},
                "archive": {"local_dir": "archive"},
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    loaded = load_config(config, environ={"CHORUS_AUTH__JWT_SECRET_FILE": "mine/secret"})
    assert loaded.bot.knowledge_files == [
        config.parent / "kb" / "faq.yaml",
        Path("/abs/other.yaml"),
    ]
    assert loaded.archive.local_dir == config.parent / "archive"
    # Defaults are the ones shipped with Chorus; the environment's stay as typed.
    assert loaded.mongo.embedded.data_dir == PACKAGE_ROOT / "data" / "db"
    assert loaded.auth.jwt_secret_file == Path("mine/secret")
    defaults = load_config(None, environ={})
    assert defaults.bot.knowledge_files == [PACKAGE_ROOT / "knowledge" / "faq.yaml"]
    assert defaults.bot.knowledge_files[0].is_file()
