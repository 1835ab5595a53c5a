"""The embedded database keeps its files to its owner and listens on loopback only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pymongo import MongoClient

from storage.embedded import EmbeddedMongo


def test_files_are_private_and_the_server_binds_loopback(tmp_path: Path) -> None:
    data = tmp_path / "db"
    data.mkdir(mode=0o755)  # an existing, too open directory is tightened
    server = EmbeddedMongo(data)
    server.start(timeout=60)
    try:
        assert server.uri.startswith("mongodb://127.0.0.1:")
        client: MongoClient[dict[str, object]] = MongoClient(server.uri)
        client["t"]["c"].insert_one({"secret": "customer data"})
        client.close()
    finally:
        server.stop()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    written = [Path(root) / name for root, _, names in os.walk(data) for name in names]
    written.append(tmp_path / "secantusd.log")
    assert len(written) > 1
    loose = {
        str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in written if p.stat().st_mode & 0o077
    }
    assert loose == {}
    subdirs = [Path(root) / name for root, names, _ in os.walk(data) for name in names]
    assert all(stat.S_IMODE(d.stat().st_mode) & 0o077 == 0 for d in subdirs)
