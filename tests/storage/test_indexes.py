"""`chorus db init` prepares an empty database exactly as the hub's start-up does.

The command runs in a fresh process, so no test module's imports can hide an index that
only some import path would declare.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from tests.helpers.hub import MakeClient

ROOT = Path(__file__).resolve().parents[2]


async def index_specs(client: AsyncMongoClient[dict[str, Any]], database: str) -> dict[str, Any]:
    specs: dict[str, Any] = {}
    db = client[database]
    for name in sorted(await db.list_collection_names()):
        found = await db[name].index_information()
        specs[name] = {index: sorted(spec.items()) for index, spec in found.items()}
    return specs


async def test_db_init_in_a_fresh_process_creates_what_serve_creates(
    make_client: MakeClient, mongo_uri: str, db_name: str
) -> None:
    await make_client()  # the hub's start-up, on the test's database
    initialised = f"t_{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "CHORUS_MONGO__URI": mongo_uri,
        "CHORUS_MONGO__DATABASE": initialised,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "db", "init",
        cwd=ROOT, env=env, stdout=PIPE, stderr=PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    try:
        by_serve = await index_specs(client, db_name)
        by_init = await index_specs(client, initialised)
        # Every collection the hub indexes, with its unique keys for deduplication.
        for wanted in ("seen_events", "agents", "refresh_tokens", "links", "messages"):
            assert wanted in by_init, f"db init left {wanted} without its indexes"
        assert by_init == {name: by_serve[name] for name in by_init}
        assert set(by_init) == {name for name, specs in by_serve.items() if len(specs) > 1}
    finally:
        await client.drop_database(initialised)
        await client.close()
