"""Polling mode: getUpdates against the fake, offset kept in MongoDB across restarts."""

from __future__ import annotations

from tests.helpers.hub import bearer, wait_for
from tests.helpers.telegram import telegram_config, text_update


def _polling(config, telegram_server, fake_telegram):
    return telegram_config(config, telegram_server, fake_telegram.token, mode="polling")


async def _count(db, n: int) -> bool:
    return await db.messages.count_documents({}) >= n


async def test_polled_updates_are_stored_and_offset_persisted(
    telegram_server, fake_telegram, make_client, config, db
) -> None:
    fake_telegram.push_update(text_update(500, "first"))
    fake_telegram.push_update(text_update(501, "second"))
    client = await make_client(_polling(config, telegram_server, fake_telegram))
    await wait_for(lambda: _count(db, 2))

    async def checkpoint():
        doc = await db.checkpoints.find_one({"_id": "telegram:offset"})
        return doc and doc["value"] == 502

    await wait_for(checkpoint)
    resp = await client.get("/api/v1/messages?channel=telegram", headers=bearer(client))
    assert [m["text"] for m in (await resp.json())["items"]] == ["first", "second"]
    # Long polling: the bot asked with a timeout and only for the kinds it handles.
    params = fake_telegram.calls_of("getUpdates")[0]
    assert params["timeout"] == "1"
    assert params["allowed_updates"] == ["message", "edited_message"]


async def test_restart_resumes_after_last_stored_update(
    telegram_server, fake_telegram, make_client, config, db
) -> None:
    cfg = _polling(config, telegram_server, fake_telegram)
    fake_telegram.push_update(text_update(700, "before restart"))
    client = await make_client(cfg)
    await wait_for(lambda: _count(db, 1))

    async def checkpoint():
        return await db.checkpoints.find_one({"_id": "telegram:offset", "value": 701})

    await wait_for(checkpoint)
    await client.close()  # the hub stops

    first_call = len(fake_telegram.calls_of("getUpdates"))
    fake_telegram.push_update(text_update(701, "while down"))
    await make_client(cfg)  # a new hub process, same database
    await wait_for(lambda: _count(db, 2))

    assert fake_telegram.calls_of("getUpdates")[first_call]["offset"] == "701"
    texts = [d["text"] async for d in db.messages.find({}).sort("_id", 1)]
    assert texts == ["before restart", "while down"]


async def test_polling_retries_after_api_errors(
    telegram_server, fake_telegram, make_client, config, db
) -> None:
    fake_telegram.fail_next("getUpdates", 502, "Bad Gateway")
    fake_telegram.push_update(text_update(900, "after the outage"))
    await make_client(_polling(config, telegram_server, fake_telegram))
    await wait_for(lambda: _count(db, 1))
    assert len(fake_telegram.calls_of("getUpdates")) >= 2
