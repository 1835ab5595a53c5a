"""Files on Telegram: what a customer sends is fetched with ``getFile`` into the media
store; what an agent attaches goes out with ``sendPhoto`` or ``sendDocument``. Updates are
built with python-telegram-bot's own classes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import Chat, Document, Message, PhotoSize, Update, User, Voice

from hub.state import ADAPTERS
from tests.helpers.hub import bearer, wait_for
from tests.helpers.media import EXECUTABLE, PDF, form, png
from tests.helpers.presence import agent_online
from tests.helpers.telegram import CHAT_ID, post_update
from tests.helpers.web_chat import next_frame

OGG = b"OggS\x00\x02" + b"\x00" * 64


def _update(update_id: int, **content: Any) -> dict[str, Any]:
    ada = User(CHAT_ID, "Ada", False, last_name="Lovelace", username="ada_l")
    message = Message(
        update_id + 500, datetime.now(UTC), Chat(CHAT_ID, Chat.PRIVATE, first_name="Ada"),
        from_user=ada, **content,
    )  # fmt: skip
    return Update(update_id, message=message).to_dict()


async def _stored(db: Any, count: int) -> list[dict[str, Any]]:
    async def kept() -> list[dict[str, Any]] | None:
        docs = await db.messages.find({}).sort("_id", 1).to_list()
        found = [a for d in docs for a in d["attachments"] if a.get("media_id")]
        return docs if len(found) >= count else None

    docs: list[dict[str, Any]] = await wait_for(kept)
    return docs


async def test_customer_files_are_fetched_into_the_media_store(tg_client, fake_telegram, db):
    fake_telegram.add_file("photo-big", "photos/file_1.jpg", png(640, 480))
    fake_telegram.add_file("doc-1", "documents/file_2.pdf", PDF)
    fake_telegram.add_file("voice-1", "voice/file_3.oga", OGG)
    updates = [
        _update(1, photo=(PhotoSize("photo-small", "s", 90, 67), PhotoSize("photo-big", "b", 640, 480)),
                caption="The lamp arrived broken"),
        _update(2, document=Document("doc-1", "d1", file_name="invoice.pdf",
                                     mime_type="application/pdf")),
        _update(3, voice=Voice("voice-1", "v1", 3, mime_type="audio/ogg")),
    ]  # fmt: skip
    for item in updates:
        assert (await post_update(tg_client, item)).status == 200
    docs = await _stored(db, 3)
    assert [d["attachments"][0]["mime_type"] for d in docs] == [
        "image/png", "application/pdf", "audio/ogg"
    ]  # fmt: skip
    assert [c["file_id"] for c in fake_telegram.calls_of("getFile")] == [
        "photo-big", "doc-1", "voice-1"
    ]  # fmt: skip
    resp = await tg_client.get(f"/api/v1/messages/{docs[0]['_id']}", headers=bearer(tg_client))
    (photo,) = (await resp.json())["attachments"]
    assert (photo["width"], photo["height"]) == (640, 480)
    assert await (await tg_client.get(photo["download_url"])).read() == png(640, 480)
    assert (await tg_client.get(photo["thumbnail_url"])).status == 200


async def test_a_refused_customer_file_keeps_its_metadata_only(tg_client, fake_telegram, db):
    fake_telegram.add_file("doc-x", "documents/file_9.png", EXECUTABLE)
    doc = Document("doc-x", "dx", file_name="cat.png", mime_type="image/png")
    assert (await post_update(tg_client, _update(9, document=doc))).status == 200
    adapter = tg_client.app[ADAPTERS]["telegram"]
    await wait_for(lambda: _called(fake_telegram, "getFile"))
    await wait_for(lambda: _idle(adapter))  # the fetch task ran to its end
    stored = await db.messages.find_one({})
    assert stored["attachments"][0]["name"] == "cat.png"
    assert stored["attachments"][0]["media_id"] is None
    assert await db.media.count_documents({}) == 0


async def _called(fake: Any, method: str) -> bool:
    return bool(fake.calls_of(method))


async def _idle(adapter: Any) -> bool:
    return not adapter._file_tasks


async def test_an_agent_pdf_and_image_arrive_in_telegram(tg_client, fake_telegram, db):
    assert (await post_update(tg_client, _update(20, text="Can I see the terms?"))).status == 200
    resp = await tg_client.get("/api/v1/messages?channel=telegram", headers=bearer(tg_client))
    conversation_id = (await resp.json())["items"][0]["conversation_id"]
    resp = await tg_client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data=form(("terms.pdf", PDF), ("shelf.png", png()), text="Here they are"),
        headers=bearer(tg_client),
    )
    assert resp.status == 201, await resp.text()
    message_id = (await resp.json())["id"]

    async def settled() -> dict[str, Any] | None:
        doc = await db.messages.find_one({"_id": message_id})
        return doc if doc["delivery"]["status"] in ("sent", "failed") else None

    doc = await wait_for(settled, within=15)
    assert doc["delivery"]["status"] == "sent", doc["delivery"]
    uploads = fake_telegram.uploads
    assert [(u["method"], u["filename"], u["chat_id"]) for u in uploads] == [
        ("document", "terms.pdf", CHAT_ID),
        ("photo", "shelf.png", CHAT_ID),
    ]
    assert uploads[0]["content"] == PDF and uploads[1]["content"] == png()
    assert [s["text"] for s in fake_telegram.sent] == ["Here they are"]
    assert doc["delivery"]["platform_id"].count(":") == 3


async def test_the_open_inbox_is_told_when_a_customer_photo_is_fetched(tg_client, fake_telegram):
    fake_telegram.add_file("photo-live", "photos/file_7.jpg", png(320, 240))
    photo = (PhotoSize("photo-live", "l", 320, 240),)
    async with agent_online(tg_client) as feed:
        assert (await post_update(tg_client, _update(30, photo=photo))).status == 200
        first = await next_frame(feed, "message")
        assert first["message"]["attachments"][0]["media_id"] is None
        fetched = await next_frame(feed, "message_files")
    message = fetched["message"]
    assert message["id"] == first["message"]["id"]
    assert fetched["conversation"]["id"] == first["conversation"]["id"]
    (attachment,) = message["attachments"]
    assert attachment["media_id"] and (attachment["width"], attachment["height"]) == (320, 240)
    assert "storage_key" not in attachment and "thumbnail_key" not in attachment
    resp = await tg_client.get(f"/api/v1/messages/{message['id']}", headers=bearer(tg_client))
    (linked,) = (await resp.json())["attachments"]
    assert (await tg_client.get(linked["thumbnail_url"])).status == 200
