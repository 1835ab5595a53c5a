"""Export → erase → export: nothing personal left in MongoDB, the archive or a replica.

Ada has two conversations (one archived to S3 and gone from MongoDB, one open with a
linked attachment and two images she uploaded through the widget, one of which Bo sent
too), an upload she never sent, a web comment under her email, a rating, the bot's
session and two questions the bot could not answer; Bo shares her archive object.
After erasure every string that identified Ada or that she wrote is gone everywhere,
Bo's data is untouched, counts still add up, and the audit log says who and why.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from pymongo import AsyncMongoClient

from hub.cli.main import main
from hub.core.media import MEDIA
from hub.domain import utcnow
from hub.privacy.requests import SECTIONS, item_digest_line
from hub.state import HUB, MONGO
from storage.bot import BotStore
from storage.inbox import InboxStore
from storage.outbox import OutboxStore
from storage.replicator import STATE_COLLECTION, Replicator
from tests.helpers.hub import bearer, wait_for
from tests.helpers.media import PDF, png
from tests.helpers.privacy import (
    archive_text,
    customer_uploads,
    customer_writes,
    database_text,
    rate,
    resolve_and_archive,
)

ADA_SECRETS = [
    "Ada Lovelace",
    "ada@example.org",
    "my card ends 4242",
    "call me on 555-0101",
    "ada-visitor",
    "Ada Lovelace-passport.png",
    "analytical engine review",
    "ada-scan.png",
    "ada-unsent.pdf",
    "the bot told Ada about her engine",
    "where is my parcel 77",
    "how do I reset my abacus",
]


async def _arrange(client: Any, db: Any, archive: Any) -> tuple[str, str]:
    first = await customer_writes(client, "ada-visitor", "Ada Lovelace", "my card ends 4242", "a1")
    bo = await customer_writes(client, "bo-visitor", "Bo Diddley", "Bo keeps his data", "b1")
    contact_id = first.message.contact_id
    bots = BotStore(client.app[MONGO])
    await bots.record_miss(first.conversation.id, "web", "where is my parcel 77")
    await InboxStore(client.app[MONGO]).set_contact_email(contact_id, "ada@example.org")
    await rate(client, first.conversation.id, contact_id, 4)
    await resolve_and_archive(client, db, archive, [first.conversation.id, bo.conversation.id])
    shared = await customer_uploads(client, "ada-visitor", "ada-scan.png", png())
    own = await customer_uploads(client, "ada-visitor", "ada-own.png", png(64, 48))
    await customer_uploads(client, "ada-visitor", "ada-unsent.pdf", PDF)
    bo_copy = await customer_uploads(client, "bo-visitor", "bo-scan.png", png())
    await customer_writes(client, "bo-visitor", "Bo Diddley", "Bo sends it", "b2", files=(bo_copy,))
    second = await customer_writes(
        client,
        "ada-visitor",
        "Ada Lovelace",
        "call me on 555-0101",
        "x2",
        attachment=True,
        files=(shared, own),
    )
    conversation = second.conversation.id
    await bots.save_session(
        conversation, {"turn": 2, "last_answer": "the bot told Ada about her engine"}
    )
    await bots.record_miss(conversation, "web", "how do I reset my abacus")
    posted = await client.post(
        "/comment",
        json={"comment": "analytical engine review", "author": "Ada", "email": "ada@example.org"},
    )
    assert posted.status == 201, await posted.text()
    return contact_id, bo.conversation.id


async def _export(client: Any, contact_id: str, admin: dict[str, str]) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/contacts/{contact_id}/export", headers=admin)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("application/json")
    return json.loads(await resp.read())


def _check_manifest(export: dict[str, Any]) -> None:
    for name, entry in export["manifest"]["sections"].items():
        items = [export[name]] if name == "contact" else export[name]
        digest = hashlib.sha256(b"".join(item_digest_line(i) for i in items)).hexdigest()
        assert (entry["count"], entry["sha256"]) == (len(items), digest), name


def _media_files(root: Path) -> list[Path]:
    return [p for p in (root / "media").rglob("*") if p.is_file() and p.suffix != ".sha256"]


async def test_export_then_erase_leaves_nothing_personal_anywhere(
    client, db, archive, mongo_uri, db_name, tmp_path
) -> None:
    admin = bearer(client, "root", "admin")
    contact_id, bo_conversation = await _arrange(client, db, archive)
    replica_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    replica = replica_client[db_name + "_replica"]
    stop = asyncio.Event()
    replicating = asyncio.create_task(Replicator(db, replica, batch_size=50).run(stop))
    try:
        await wait_for(lambda: replica[STATE_COLLECTION].find_one({}))
        cursor = (await (await client.get("/api/v1/sync/changes", headers=admin)).json())["cursor"]

        before = await _export(client, contact_id, admin)
        assert set(SECTIONS) <= set(before) and before["format"] == "chorus-export/1"
        _check_manifest(before)
        text = json.dumps(before)
        # All of it but the upload she never sent, which no message references.
        assert [s for s in ADA_SECRETS if s not in text] == ["ada-unsent.pdf"]
        assert len(before["conversations"]) == 2 and len(before["messages"]) == 2
        assert [c.get("archived_copy") for c in before["conversations"]].count(True) == 1
        assert len(before["attachments"]) == 3 and len(before["comments"]) == 1
        assert {a["name"] for a in before["attachments"] if a["media_id"]} == {
            "ada-scan.png",
            "ada-own.png",
        }
        assert len(before["ratings"]) == 1 and len(before["bot_misses"]) == 2
        assert before["bot_sessions"][0]["last_answer"] == "the bot told Ada about her engine"
        files_before = _media_files(tmp_path)
        assert "Bo keeps his data" not in text

        erased = await client.post(
            f"/api/v1/contacts/{contact_id}/erase",
            json={"reason": "GDPR art. 17 request #88"},
            headers=admin,
        )
        assert erased.status == 200, await erased.text()
        report = await erased.json()
        assert report["erased"]["conversations"] == 1 and report["erased"]["messages"] == 1
        assert report["erased"]["comments"] == 1 and report["erased"]["archive_objects"] == 1
        # Her own image and its thumbnail, and the PDF she never sent; not the image Bo
        # sent too (kept once per SHA-256), which Bo still downloads.
        assert report["erased"]["holder:media"] == 3
        assert len(files_before) - len(_media_files(tmp_path)) == 3
        assert await db.media.count_documents({}) == 1
        bo_message = await db.messages.find_one({"text": "Bo sends it"})
        (bo_file,) = bo_message["attachments"]
        link = client.app[MEDIA].link(bo_file["media_id"])
        assert (await client.get(link)).status == 200

        after = await _export(client, contact_id, admin)
        _check_manifest(after)
        assert not [s for s in ADA_SECRETS if s in json.dumps(after)]

        stored = await database_text(db)
        assert not [s for s in ADA_SECRETS if s in stored]
        assert "Bo keeps his data" in await archive_text(archive)
        archived = await archive_text(archive)
        assert not [s for s in ADA_SECRETS if s in archived]

        # Tombstones keep the counts: the messages and conversation are still there.
        assert await db.messages.count_documents({"contact_id": contact_id}) == 1
        assert await db.contacts.count_documents({"_id": contact_id, "erased": {"$ne": None}}) == 1

        async def replica_clean() -> bool:
            return not [s for s in ADA_SECRETS if s in await database_text(replica)]

        await wait_for(replica_clean)

        feed = await client.get(f"/api/v1/sync/changes?since={cursor}&limit=500", headers=admin)
        changes = (await feed.json())["changes"]
        deleted = {(c["collection"], c["id"]) for c in changes if c["op"] == "delete"}
        assert ("contacts", contact_id) in deleted
        assert any(name == "messages" for name, _ in deleted)
        assert not [c for c in changes if c["op"] == "upsert" and c["doc"].get("erased")]

        audit = await (await client.get("/api/v1/audit?action=erase contact", headers=admin)).json()
        [entry] = audit["items"]
        assert entry["who"] == "root" and entry["detail"]["reason"] == "GDPR art. 17 request #88"

        # Bo's archived conversation still restores, and his object's digest is current.
        from storage.archiver import Archiver

        archiver = Archiver(client.app[MONGO], archive, after_days=0, delete_after_archive=True)
        assert await archiver.restore_conversation(bo_conversation) == (1, 1)
    finally:
        stop.set()
        await replicating
        await replica_client.drop_database(db_name + "_replica")
        await replica_client.close()


async def test_the_cli_exports_to_a_file_and_erases_with_a_reason(
    client, db, config, tmp_path
) -> None:
    said = await customer_writes(client, "eve-visitor", "Eve Example", "eve's secret", "e1")
    contact_id = said.message.contact_id
    env = {"CHORUS_MONGO__URI": config.mongo.uri, "CHORUS_MONGO__DATABASE": db.name}
    env |= {f"CHORUS_ARCHIVE__S3__{k.upper()}": str(v) for k, v in
            config.archive.s3.model_dump().items() if v is not None}  # fmt: skip
    env["CHORUS_ARCHIVE__STORE"] = "s3"
    out = tmp_path / "eve.json"

    def cli(*args: str) -> str:
        result = CliRunner().invoke(main, ["contact", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    await asyncio.to_thread(cli, "export", contact_id, "--output", str(out))
    assert "eve's secret" in out.read_text()
    report = json.loads(
        await asyncio.to_thread(cli, "erase", contact_id, "--reason", "asked", "--by", "dpo")
    )
    assert report["erased"]["messages"] == 1
    assert "eve's secret" not in await asyncio.to_thread(cli, "export", contact_id)
    entry = await db.audit_log.find_one({"action": "erase contact"})
    assert entry["who"] == "dpo" and entry["detail"]["reason"] == "asked"
    missing = await asyncio.to_thread(
        CliRunner().invoke, main, ["contact", "erase", "nobody", "--reason", "asked"], env=env
    )
    assert missing.exit_code == 1 and "contact_not_found" in missing.output


async def test_a_reply_pending_at_erasure_is_claimed_by_neither_path(client, db) -> None:
    """Erasure fails a pending reply: neither the claim of a reply handed to the outbox by
    id nor the poll for due messages takes it up, so it is never sent."""
    said = await customer_writes(client, "fay-visitor", "Fay Example", "fay's secret", "f1")
    # The hub's own sender would race the claims below for the reply; this test claims.
    await client.app[HUB].outbox.stop()
    reply = await db.messages.find_one({"_id": said.message.id})
    reply |= {
        "_id": "fay-reply",
        "direction": "outbound",
        "author": {"kind": "agent", "id": "ada", "name": "Ada"},
        "text": "Fay, your parcel is at 12 Privacy Lane",
        "external_id": None,
        "seq": None,
        "delivery": {"status": "pending", "attempts": 0, "next_attempt_at": utcnow()},
    }
    await db.messages.insert_one(reply)
    admin = bearer(client, "root", "admin")
    erased = await client.post(
        f"/api/v1/contacts/{said.message.contact_id}/erase", json={"reason": "asked"}, headers=admin
    )
    assert erased.status == 200, await erased.text()
    outbox = OutboxStore(client.app[MONGO])
    assert await outbox.claim_ids(["fay-reply"], 30) == []
    assert (await outbox.claim_batch(30, 100)).messages == []
    stored = await db.messages.find_one({"_id": "fay-reply"})
    assert stored["delivery"]["status"] == "failed" and stored["delivery"]["reason"] == "erased"
    assert "Privacy Lane" not in stored["text"]
