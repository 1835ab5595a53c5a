"""Telegram webhook end to end: Bot API updates → inbox → API, and agent replies → sendMessage."""

from __future__ import annotations

import json
import logging

from pymongo import ASCENDING, IndexModel

from hub.state import ADAPTERS
from tests.helpers.hub import bearer, wait_for
from tests.helpers.rawhttp import raw_request
from tests.helpers.telegram import (
    CHAT_ID,
    post_update,
    telegram_config,
    text_update,
    update,
)


async def test_customer_message_reaches_inbox_and_agent_reply_reaches_chat(
    tg_client, fake_telegram, db
) -> None:
    resp = await post_update(tg_client, text_update(1, "Where is my order?"))
    assert resp.status == 200

    resp = await tg_client.get("/api/v1/messages?channel=telegram", headers=bearer(tg_client))
    assert resp.status == 200
    items = (await resp.json())["items"]
    assert [m["text"] for m in items] == ["Where is my order?"]
    assert items[0]["direction"] == "inbound" and items[0]["author"]["kind"] == "contact"
    assert items[0]["author"]["name"] == "Ada Lovelace"

    conversation_id = items[0]["conversation_id"]
    conversation = await db.conversations.find_one({"_id": conversation_id})
    assert conversation["route"] == {"chat_id": CHAT_ID}
    assert conversation["recipient_id"] == str(CHAT_ID)

    resp = await tg_client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "It ships today <b>not bold</b> & *plain*."},
        headers=bearer(tg_client, sub="agent-bo"),
    )
    assert resp.status == 201
    reply = await resp.json()

    async def delivered():
        doc = await db.messages.find_one({"_id": reply["id"]})
        return doc if doc["delivery"]["status"] == "sent" else None

    doc = await wait_for(delivered)
    [sent] = fake_telegram.sent
    assert sent["chat_id"] == CHAT_ID
    assert sent["text"] == "It ships today <b>not bold</b> & *plain*."
    assert "parse_mode" not in sent  # plain text: nothing the agent types is read as markup
    assert doc["delivery"]["platform_id"] == f"{CHAT_ID}:{sent['message_id']}"


async def test_missing_or_wrong_secret_is_refused_and_nothing_stored(tg_client, db) -> None:
    for secret in (None, "", "wrong-secret", "s3cret_Token-for-test"):
        resp = await post_update(tg_client, text_update(5, "let me in"), secret=secret)
        assert resp.status == 401, secret
        body = await resp.json()
        assert body["error"]["code"] == "invalid_secret_token"
    assert await db.messages.count_documents({}) == 0
    assert await db.contacts.count_documents({}) == 0
    assert await db.seen_events.count_documents({}) == 0


async def test_secret_header_of_raw_bytes_is_refused_without_a_traceback(
    tg_client, db, caplog
) -> None:
    body = json.dumps(text_update(6, "let me in")).encode()
    head = (
        b"POST /webhooks/telegram HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n".encode()
        + b"X-Telegram-Bot-Api-Secret-Token: \xff\xfe"
    )
    resp = await raw_request(tg_client.server.host, tg_client.server.port, head, (body,))
    assert resp.status == 401
    assert resp.json()["error"]["code"] == "invalid_secret_token"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert await db.messages.count_documents({}) == 0


async def test_bad_bodies_get_json_errors_and_store_nothing(tg_client, tg_config, db) -> None:
    headers = {
        "X-Telegram-Bot-Api-Secret-Token": tg_config.telegram.webhook_secret.get_secret_value()
    }
    cases = [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_update"),
        (b'{"message": {}}', 400, "invalid_update"),
        (b'{"update_id": "7"}', 400, "invalid_update"),
        (
            b'{"update_id": 1, "pad": "' + b"x" * tg_config.telegram.max_body_bytes + b'"}',
            413,
            "payload_too_large",
        ),
    ]
    for body, status, code in cases:
        resp = await tg_client.post(
            "/webhooks/telegram", data=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert resp.status == status, body[:40]
        assert (await resp.json())["error"]["code"] == code
    assert await db.messages.count_documents({}) == 0
    assert await db.seen_events.count_documents({}) == 0


async def test_redelivered_update_is_stored_once(tg_client, db) -> None:
    first = text_update(10, "hello", message_id=55)
    for _ in range(3):  # Telegram retries until it gets a 200
        assert (await post_update(tg_client, first)).status == 200
    # The same message inside another update (e.g. after the update id claim expired).
    again = text_update(11, "hello", message_id=55)
    assert (await post_update(tg_client, again)).status == 200
    assert await db.messages.count_documents({}) == 1
    stored = await db.messages.find_one({})
    assert stored["external_id"] == f"{CHAT_ID}:55"
    assert stored["raw"]["update_id"] == 10


async def test_edit_updates_text_and_keeps_previous(tg_client, db) -> None:
    await post_update(tg_client, text_update(20, "I ordred a lamp", message_id=70))
    edited = update(21, "edited_message", message_id=70, text="I ordered a lamp")
    edited["edited_message"]["edit_date"] = edited["edited_message"]["date"] + 5
    assert (await post_update(tg_client, edited)).status == 200
    assert (await post_update(tg_client, edited)).status == 200  # redelivered edit

    doc = await db.messages.find_one({"external_id": f"{CHAT_ID}:70"})
    assert doc["text"] == "I ordered a lamp"
    assert [e["text"] for e in doc["edits"]] == ["I ordred a lamp"]
    assert await db.messages.count_documents({}) == 1

    resp = await tg_client.get(f"/api/v1/messages/{doc['_id']}", headers=bearer(tg_client))
    body = await resp.json()
    assert body["text"] == "I ordered a lamp"
    assert body["edits"][0]["text"] == "I ordred a lamp"


async def test_edit_of_unseen_message_is_stored_as_message(tg_client, db) -> None:
    edited = update(25, "edited_message", message_id=3, text="fixed typo")
    assert (await post_update(tg_client, edited)).status == 200
    doc = await db.messages.find_one({})
    assert doc["text"] == "fixed typo" and doc["external_id"] == f"{CHAT_ID}:3"


async def test_photo_with_caption_document_and_voice_become_attachments(
    tg_client, fake_telegram, db
) -> None:
    photo = [
        {
            "file_id": "ph-small",
            "file_unique_id": "a1",
            "file_size": 1200,
            "width": 90,
            "height": 60,
        },
        {
            "file_id": "ph-big",
            "file_unique_id": "a2",
            "file_size": 48211,
            "width": 1280,
            "height": 853,
        },
    ]
    updates = [
        update(30, photo=photo, caption="The lamp arrived broken"),
        update(
            31,
            document={
                "file_id": "doc-1",
                "file_unique_id": "d1",
                "file_name": "invoice.pdf",
                "mime_type": "application/pdf",
                "file_size": 5120,
            },
        ),
        update(
            32,
            voice={
                "file_id": "voice-1",
                "file_unique_id": "v1",
                "duration": 3,
                "mime_type": "audio/ogg",
                "file_size": 7000,
            },
        ),
    ]
    for item in updates:
        assert (await post_update(tg_client, item)).status == 200

    docs = await db.messages.find({}).sort("_id", 1).to_list()
    assert [d["text"] for d in docs] == ["The lamp arrived broken", "", ""]
    # What the update said (the media store's fields are filled once a file is fetched).
    said = ("kind", "name", "mime_type", "size", "url", "storage_key")
    assert [[{k: a[k] for k in said} for a in d["attachments"]] for d in docs] == [
        [
            {
                "kind": "image",
                "name": "photo.jpg",
                "mime_type": "image/jpeg",
                "size": 48211,
                "url": None,
                "storage_key": None,
            }
        ],
        [
            {
                "kind": "file",
                "name": "invoice.pdf",
                "mime_type": "application/pdf",
                "size": 5120,
                "url": None,
                "storage_key": None,
            }
        ],
        [
            {
                "kind": "audio",
                "name": "voice.ogg",
                "mime_type": "audio/ogg",
                "size": 7000,
                "url": None,
                "storage_key": None,
            }
        ],
    ]


async def test_file_hook_gets_file_ids_and_download_fetches_content(
    tg_client, fake_telegram, db
) -> None:
    adapter = tg_client.app[ADAPTERS]["telegram"]
    fetched = {}

    async def keep(stored, files):
        for item in files:
            fetched[item.file_id] = (stored.id, await adapter.download(item.file_id))

    adapter.on_files = keep
    fake_telegram.add_file("doc-9", "documents/file_9.pdf", b"%PDF-1.7 invoice")
    doc = {
        "file_id": "doc-9",
        "file_unique_id": "d9",
        "file_name": "a.pdf",
        "mime_type": "application/pdf",
    }
    await post_update(tg_client, update(35, document=doc))

    async def done():
        return fetched.get("doc-9")

    message_id, content = await wait_for(done)
    assert content == b"%PDF-1.7 invoice"
    assert message_id == (await db.messages.find_one({}))["_id"]
    assert fake_telegram.calls_of("getFile")[0]["file_id"] == "doc-9"


async def test_start_creates_contact_and_shared_contact_is_text(tg_client, db) -> None:
    assert (await post_update(tg_client, text_update(40, "/start"))).status == 200
    contact = await db.contacts.find_one({})
    assert contact["name"] == "Ada Lovelace"
    assert contact["identities"] == [
        {"channel": "telegram", "external_id": str(CHAT_ID), "handle": "ada_l", "reachable": True}
    ]
    shared = update(
        41,
        contact={
            "phone_number": "+441234567890",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "user_id": CHAT_ID,
        },
    )
    await post_update(tg_client, shared)
    texts = [d["text"] async for d in db.messages.find({}).sort("_id", 1)]
    assert texts == ["/start", "Shared contact: Ada Lovelace, +441234567890"]
    assert await db.contacts.count_documents({}) == 1


async def test_unsupported_updates_are_acknowledged_and_counted(tg_client, db) -> None:
    group = update(50, text="hi all")
    group["message"]["chat"] = {"id": -100123, "title": "Fans", "type": "supergroup"}
    cases = [
        group,
        update(
            51,
            sticker={
                "file_id": "st",
                "file_unique_id": "s",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        ),
        {
            "update_id": 52,
            "callback_query": {
                "id": "9",
                "from": {"id": 1, "is_bot": False, "first_name": "X"},
                "chat_instance": "1",
                "data": "x",
            },
        },
        {"update_id": 53, "my_chat_member": {"chat": {"id": 1, "type": "private"}}},
        {"update_id": 54, "message": {"message_id": 1}},  # malformed: no chat
    ]
    for item in cases:
        assert (await post_update(tg_client, item)).status == 200
    adapter = tg_client.app[ADAPTERS]["telegram"]
    assert dict(adapter.unsupported) == {
        "supergroup_chat": 1,
        "message:sticker": 1,
        "callback_query": 1,
        "my_chat_member": 1,
        "malformed": 1,
    }
    assert await db.messages.count_documents({}) == 0


async def test_update_not_stored_gets_503_and_is_taken_on_retry(tg_client, db) -> None:
    # A real write failure: a unique index that the next message's insert violates.
    await post_update(tg_client, text_update(60, "same text"))
    await db.messages.create_indexes([IndexModel([("text", ASCENDING)], name="t", unique=True)])
    retried = text_update(61, "same text")
    resp = await post_update(tg_client, retried)
    assert resp.status == 503
    assert (await resp.json())["error"]["code"] == "storage_unavailable"
    assert await db.messages.count_documents({}) == 1

    await db.messages.drop_index("t")
    assert (await post_update(tg_client, retried)).status == 200
    assert await db.messages.count_documents({}) == 2


async def test_polling_mode_has_no_webhook_route(
    telegram_server, fake_telegram, make_client, config
) -> None:
    client = await make_client(
        telegram_config(config, telegram_server, fake_telegram.token, mode="polling")
    )
    resp = await post_update(client, text_update(1, "hi"))
    assert resp.status in (404, 405)


async def test_edit_is_a_message_updated_event(make_client, tg_config, db, aiohttp_server) -> None:
    from tests.helpers.hub import wait_for
    from tests.helpers.webhooks import Receiver, register

    tg_config.webhooks.allow_private_addresses = True
    receiver = Receiver()
    server = await aiohttp_server(receiver.app)
    client = await make_client(tg_config)
    await register(client, str(server.make_url("/hook")), ["message.updated"])
    await post_update(client, text_update(30, "see you at 5", message_id=80))
    edited = update(31, "edited_message", message_id=80, text="see you at 6")
    assert (await post_update(client, edited)).status == 200

    async def arrived():
        return receiver.accepted()

    (event,) = await wait_for(arrived)
    assert event["type"] == "message.updated"
    assert event["data"]["message"]["text"] == "see you at 6"
    assert event["data"]["message"]["edits"][0]["text"] == "see you at 5"
