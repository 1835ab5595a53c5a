"""The embedded MongoDB-wire server: SecantusDB run as a child process.

Used when ``mongo.uri`` is empty (the out-of-the-box default) and by the test suite. It is
a separate process spoken to over the wire protocol, so the hub's code path is the one it
takes against a real MongoDB replica set. It listens on loopback only and has no users or
passwords, so its files are the owner's alone: the data directory is 0700 and everything
the server writes is created under umask 077 (files 0600).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedMongo:
    """Starts, waits for and stops one SecantusDB server on a loopback port."""

    def __init__(
        self,
        data_dir: Path | str,
        port: int = 0,
        host: str = "127.0.0.1",
        extra_args: Sequence[str] = (),
    ) -> None:
        self.extra_args = list(extra_args)  # more server flags, e.g. a small oplog in tests
        self.data_dir = str(data_dir)
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    def start(self, timeout: float = 30.0) -> None:
        if importlib.util.find_spec("secantus") is None:
            raise EmbeddedServerError(
                "mongo.uri is empty, so Chorus would run its embedded database, but "
                "SecantusDB is not installed: pip install 'chorus-hub[embedded]', "
                "or set mongo.uri (CHORUS_MONGO__URI) to a MongoDB replica set"
            )
        if self.data_dir != ":memory:":
            Path(self.data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.data_dir, 0o700)  # also when it existed before
            self._log_path = Path(self.data_dir).parent / "secantusd.log"
        else:
            self._log_path = None
        args = [
            sys.executable,
            "-m",
            "secantus",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--storage-path",
            self.data_dir,
            "--log-level",
            "WARNING",
            "--noop-heartbeat-seconds",
            "10",
            *self.extra_args,
        ]
        out = (
            os.fdopen(os.open(self._log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
            if self._log_path
            else subprocess.DEVNULL
        )
        try:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, umask=0o077
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()  # type: ignore[union-attr]
        self._wait_ready(timeout)
        log.info("embedded database listening", extra={"uri": self.uri})

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise EmbeddedServerError(
                    f"embedded database exited with code {self.process.returncode}"
                    + (f"; see {self._log_path}" if self._log_path else "")
                )
            client: MongoClient[dict[str, object]] = MongoClient(
                self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500
            )
            try:
                client.admin.command("ping")
                return
            except PyMongoError:
                pass
            finally:
                client.close()
        self.stop()
        raise EmbeddedServerError(f"embedded database did not answer ping within {timeout}s")

    def stop(self, timeout: float = 15.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    async def astart(self, wait_seconds: float = 30.0) -> None:
        await asyncio.to_thread(self.start, wait_seconds)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)
