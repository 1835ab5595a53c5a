"""The archive and backup commands, run as an operator would (``chorus ...``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from pymongo import MongoClient

from hub.cli.main import main
from hub.domain import utcnow
from storage.inbox import InboxStore
from storage.mongo import MongoStore, make_client
from tests.helpers.storage import populate


async def seed(uri: str, database: str) -> list[str]:
    mongo = MongoStore(make_client(uri), database)
    try:
        await mongo.ensure_indexes()
        ids = await populate(InboxStore(mongo), 3, 2)
        await mongo.collection("conversations").update_many(
            {"_id": {"$in": ids[:2]}},
            {"$set": {"status": "resolved", "updated_at": utcnow().replace(year=2020)}},
        )
        return ids
    finally:
        await mongo.close()


@pytest.fixture
def env(mongo_uri: str, db_name: str, tmp_path: Path) -> dict[str, str]:
    return {
        "CHORUS_MONGO__URI": mongo_uri,
        "CHORUS_MONGO__DATABASE": db_name,
        "CHORUS_ARCHIVE__LOCAL_DIR": str(tmp_path / "archive"),
        "CHORUS_ARCHIVE__AFTER_DAYS": "30",
    }


def chorus(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_archive_backup_and_restore_from_the_command_line(
    env: dict[str, str], mongo_uri: str, db_name: str
) -> None:
    ids = asyncio.run(seed(mongo_uri, db_name))
    client: MongoClient[dict[str, object]] = MongoClient(mongo_uri)
    try:
        assert "archived 2 conversations, 4 messages" in chorus(env, "archive", "run")
        assert client[db_name]["conversations"].count_documents({}) == 1
        assert "restored 1 conversations, 2 messages" in chorus(
            env, "archive", "restore", "--conversation", ids[0]
        )
        assert "restored 2 conversations" in chorus(
            env, "archive", "restore", "--range", "2019-01-01", "2021-01-01T00:00:00+00:00"
        )

        backup_id = chorus(env, "backup").split()[1]
        client[db_name]["messages"].delete_one({})
        incremental = chorus(env, "backup", "--incremental").split()[1]
        output = chorus(env, "restore", "--backup", incremental, "--into", f"{db_name}_r")

        assert f"restored {backup_id} + {incremental}" in output
        assert "MISMATCH" not in output and output.count(" ok") >= 4
        assert client[f"{db_name}_r"]["messages"].count_documents({}) == 5
    finally:
        client.drop_database(f"{db_name}_r")
        client.drop_database(db_name)
        client.close()


def test_bad_usage_gets_a_clear_message(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["archive", "restore"], env=env)
    assert result.exit_code == 2 and "exactly one of --conversation or --range" in result.output
    result = CliRunner().invoke(main, ["backup", "--incremental"], env=env)
    assert result.exit_code == 1 and "take a full backup first" in result.output
