"""Telegram's own test procedure: the webhook guide's example updates, and updates built
with python-telegram-bot's classes, go through the webhook like real ones.

What the hub does not store is still acknowledged, counted in
``chorus_inbound_skipped_total{channel="telegram", reason}`` and logged at INFO.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import Chat, Message, Update, User
from telegram.constants import ChatType

from tests.helpers.scrape import scrape
from tests.helpers.telegram import post_update
from tests.helpers.telegram_guide import guide_update

SKIPPED = "chorus_inbound_skipped_total"


def _ptb_update(chat: Chat, sender: User, text: str) -> dict[str, Any]:
    """An update as python-telegram-bot serialises it (the Bot API's wire JSON)."""
    message = Message(
        message_id=7,
        date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        chat=chat,
        text=text,
        from_user=sender,
    )
    payload: dict[str, Any] = Update(update_id=77, message=message).to_dict()
    return payload


async def _skipped(client: Any) -> dict[str, float]:
    now = await scrape(client)
    return {
        dict(labels)["reason"]: value
        for (name, labels), value in now.samples.items()
        if name == SKIPPED and dict(labels).get("channel") == "telegram"
    }


async def test_guide_message_without_chat_type_is_stored(tg_client, db) -> None:
    resp = await post_update(tg_client, guide_update("message_with_text_tls"))
    assert resp.status == 200
    [doc] = [d async for d in db.messages.find({})]
    assert doc["text"] == "/start"
    assert doc["external_id"] == "1111111:1365"
    conversation = await db.conversations.find_one({"_id": doc["conversation_id"]})
    assert conversation["route"] == {"chat_id": 1111111}
    assert await _skipped(tg_client) == {}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("message_with_text", "/start"),
        ("edited_message", "Edited text"),
        ("message_with_document", ""),
    ],
)
async def test_guide_private_chat_examples_are_stored(tg_client, db, name, text) -> None:
    assert (await post_update(tg_client, guide_update(name))).status == 200
    [doc] = [d async for d in db.messages.find({})]
    assert doc["text"] == text
    assert await _skipped(tg_client) == {}


async def test_guide_callback_query_is_counted_and_logged(tg_client, db, caplog) -> None:
    caplog.set_level(logging.INFO, logger="adapters.telegram.adapter")
    assert (await post_update(tg_client, guide_update("callback_query"))).status == 200
    assert await db.messages.count_documents({}) == 0
    assert await _skipped(tg_client) == {"callback_query": 1}
    [record] = [r for r in caplog.records if r.getMessage() == "telegram update skipped"]
    assert record.levelno == logging.INFO
    assert record.__dict__["reason"] == "callback_query"


async def test_ptb_private_update_is_stored(tg_client, db) -> None:
    sender = User(id=5150, first_name="Ada", is_bot=False, last_name="Lovelace")
    chat = Chat(id=5150, type=ChatType.PRIVATE, first_name="Ada")
    assert (await post_update(tg_client, _ptb_update(chat, sender, "hello"))).status == 200
    [doc] = [d async for d in db.messages.find({})]
    assert (doc["text"], doc["external_id"]) == ("hello", "5150:7")


async def test_skipped_updates_are_counted_by_reason(tg_client, db) -> None:
    human = User(id=5150, first_name="Ada", is_bot=False)
    bot = User(id=6160, first_name="Robo", is_bot=True)
    group = _ptb_update(Chat(id=-100200, type=ChatType.GROUP, title="Fans"), human, "hi all")
    from_bot = _ptb_update(Chat(id=6160, type=ChatType.PRIVATE), bot, "beep")
    from_bot["update_id"] = 78
    # The guide's typeless chat, but someone else's: not evidence of a one-to-one chat.
    someone_else = guide_update("message_with_text_tls")
    someone_else["message"]["chat"]["id"] = 2222222
    odd_kind = {"update_id": 79, "not_a_bot_api_field": {"x": 1}}
    for item in (group, from_bot, someone_else, odd_kind):
        assert (await post_update(tg_client, item)).status == 200
    assert await db.messages.count_documents({}) == 0
    assert await _skipped(tg_client) == {
        "group_chat": 1,
        "no_human_sender": 1,
        "unknown_chat": 1,
        "other_update": 1,
    }
