"""Retention deletes only what is archived and not held; a dry run deletes nothing; with
two hub instances only one runs the scheduled job."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from click.testing import CliRunner

from hub.cli.main import main
from hub.config.model import ConfigError, load_config
from hub.domain import new_id, utcnow
from hub.privacy.requests import ContactErasure
from hub.privacy.retention import RetentionSchedule
from hub.state import MONGO
from storage.archiver import Archiver
from storage.backup import BackupService
from storage.retention import Retention, RetentionPolicy
from tests.helpers.hub import bearer, wait_for
from tests.helpers.privacy import customer_writes

OLD = timedelta(days=40)


async def _arrange(client: Any, db: Any, archive: Any) -> dict[str, str]:
    """Four resolved conversations 40 days old: archived, not archived, archived but held,
    archived on Telegram's longer policy; an old rejected comment, an old audit entry."""
    ids = {}
    for name in ("archived", "unarchived", "held", "telegram"):
        said = await customer_writes(client, name, name.title(), f"{name} text", name)
        ids[name] = said.conversation.id
    await db.conversations.update_many({}, {"$set": {"status": "resolved"}})
    await db.conversations.update_one({"_id": ids["telegram"]}, {"$set": {"channel": "telegram"}})
    await db.conversations.update_one({"_id": ids["unarchived"]}, {"$set": {"status": "open"}})
    archiver = Archiver(client.app[MONGO], archive, after_days=0, delete_after_archive=False)
    await archiver.run()
    await db.conversations.update_many(
        {}, {"$set": {"status": "resolved", "updated_at": utcnow() - OLD}}
    )
    held = await client.post(
        "/api/v1/holds",
        json={"kind": "conversation", "target": ids["held"], "reason": "court order"},
        headers=bearer(client, "root", "admin"),
    )
    assert held.status == 201
    old_id = str(ObjectId.from_datetime(utcnow() - OLD))
    await db.comments.insert_many(
        [
            {"_id": old_id, "status": "rejected", "text": "spam", "created_at": utcnow() - OLD},
            {"_id": new_id(), "status": "rejected", "text": "fresh", "created_at": utcnow()},
        ]
    )
    await db.audit_log.insert_one({"who": "x", "action": "old", "at": utcnow() - OLD})
    return ids


def _policy(config: Any) -> Any:
    config.retention.conversations_days = 30
    config.retention.channels = {"telegram": 60}
    config.retention.rejected_comments_days = 30
    config.retention.audit_days = 30
    return config


def _cli(config: Any, *args: str) -> dict[str, Any]:
    env = {
        "CHORUS_MONGO__URI": config.mongo.uri,
        "CHORUS_MONGO__DATABASE": config.mongo.database,
        "CHORUS_RETENTION__CONVERSATIONS_DAYS": "30",
        "CHORUS_RETENTION__CHANNELS": '{"telegram": 60}',
        "CHORUS_RETENTION__REJECTED_COMMENTS_DAYS": "30",
        "CHORUS_RETENTION__AUDIT_DAYS": "30",
    }
    result = CliRunner().invoke(main, ["retention", "run", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{") :])


async def _remaining(db: Any) -> tuple[set[str], int, set[str], int]:
    conversations = set(await db.conversations.distinct("_id"))
    comments = set(await db.comments.distinct("text"))
    return (
        conversations,
        await db.messages.count_documents({}),
        comments,
        await db.audit_log.count_documents({"action": "old"}),
    )


async def test_dry_run_deletes_nothing_and_the_run_spares_holds_and_unarchived(
    make_client, config, db, archive
) -> None:
    client = await make_client(_policy(config))
    ids = await _arrange(client, db, archive)
    before = await _remaining(db)

    dry = await asyncio.to_thread(_cli, config, "--dry-run")
    assert dry["dry_run"] is True
    assert dry["deleted"] == {"conversations": 1, "messages": 1, "comments": 1, "audit_log": 1}
    assert dry["sample"]["conversations"] == [ids["archived"]]
    assert dry["held"] == 1 and dry["not_archived"] == 1
    assert await _remaining(db) == before

    done = await asyncio.to_thread(_cli, config)
    assert done["deleted"] == dry["deleted"] and done["dry_run"] is False
    conversations, messages, comments, audit = await _remaining(db)
    assert conversations == {ids["unarchived"], ids["held"], ids["telegram"]}
    assert messages == 3 and comments == {"fresh"} and audit == 0

    policy = await client.get("/api/v1/retention", headers=bearer(client, "root", "admin"))
    assert (await policy.json())["channels"] == {"telegram": 60}
    metrics = await (await client.get("/metrics")).text()
    assert 'chorus_retention_deleted_total{collection="conversations"} 1.0' in metrics
    last_run = re.search(r"^chorus_retention_last_run_timestamp_seconds (\S+)$", metrics, re.M)
    assert last_run and abs(float(last_run[1]) - utcnow().timestamp()) < 600


async def test_two_hub_instances_run_the_schedule_on_one_of_them(make_client, config, db) -> None:
    config.retention.schedule_seconds = 0.2
    config.retention.audit_days = 30
    await make_client(config)
    await make_client(config)

    async def runs() -> list[str]:
        found = await db.retention_runs.distinct("owner", {"finished_at": {"$type": "date"}})
        return (
            found if await db.retention_runs.count_documents({"owner": {"$in": found}}) >= 6 else []
        )

    owners = await wait_for(runs)
    assert len(owners) == 1


async def test_schedules_sharing_a_lease_take_turns_with_none(
    make_client, config, db, archive
) -> None:
    client = await make_client(_policy(config))  # its own schedule is off
    await _arrange(client, db, archive)
    scheduled = config.retention.model_copy(update={"schedule_seconds": 60})
    first = RetentionSchedule(client.app[MONGO], scheduled)
    second = RetentionSchedule(client.app[MONGO], scheduled)
    reports = [await first.tick(), await second.tick(), await first.tick(), await second.tick()]
    assert [r is not None for r in reports] == [True, False, True, False]
    assert reports[0] is not None and reports[0].deleted["conversations"] == 1
    assert await db.retention_runs.count_documents({"dry_run": False}) == 2


async def test_backups_expire_as_whole_chains_and_erasure_lists_those_still_holding_data(
    client, db, archive
) -> None:
    said = await customer_writes(client, "fay", "Fay Example", "in every backup", "f1")
    backups = BackupService(db, archive)
    old_full, old_incremental = await backups.full(), await backups.incremental()
    new_full = await backups.full()
    erasure = ContactErasure(client.app[MONGO], archive, backups_days=35)
    report = await erasure.erase(said.message.contact_id, by="dpo", role="admin", reason="asked")
    stored = {m["id"]: m for m in await backups.manifests()}  # times as stored: milliseconds
    expires = (stored[old_incremental["id"]]["finished_at"] + timedelta(days=35)).isoformat()
    assert [(b["backup_id"], b["expires_at"]) for b in report.backups] == [
        (old_full["id"], expires),
        (old_incremental["id"], expires),
        (new_full["id"], None),  # the newest chain is kept until a newer one exists
    ]
    policy = RetentionPolicy(backups_days=35)
    retention = Retention(client.app[MONGO], policy, store=archive)
    later = utcnow() + timedelta(days=36)
    dry = await retention.run(dry_run=True, now=later)
    assert dry.sample["backups"] == [old_full["id"], old_incremental["id"]]
    assert len(await archive.list(f"backups/{old_full['id']}/")) > 1
    await retention.run(dry_run=False, now=later)
    assert await archive.list(f"backups/{old_full['id']}/") == []
    assert await archive.list(f"backups/{old_incremental['id']}/") == []
    assert [m["id"] for m in await backups.manifests()] == [new_full["id"]]


def test_per_channel_days_name_a_channel_of_the_registry() -> None:
    """Channel names are the registry's: a misspelt one is refused, not silently kept."""
    overrides = {"CHORUS_RETENTION__CHANNELS": '{"telegram": 90}'}
    assert load_config(None, overrides).retention.channels == {"telegram": 90}
    with pytest.raises(ConfigError, match=r"retention\.channels: unknown channel telgram"):
        load_config(None, {"CHORUS_RETENTION__CHANNELS": '{"telgram": 90}'})
