"""Replies to WeChat customers through the customer-service API, via the outbox.

The fake refuses what WeChat refuses (expired tokens, the 48-hour window, the reply
limit, texts over 2,048 bytes), so each case is decided by the platform's rule.
"""

from __future__ import annotations

import logging
import time

from adapters.wechat.api import WeChatApi
from hub.state import HUB
from tests.fakes.wechat_api import APP_ID, APP_SECRET
from tests.helpers.hub import bearer, wait_for
from tests.helpers.media import PDF, form
from tests.helpers.wechat import OPENID, encrypted_callback, post_callback, text_xml


async def _conversation(client, fake, created: int | None = None) -> str:
    fake.customer_wrote(OPENID, at=created)
    query, body = encrypted_callback(text_xml(str(time.time_ns()), "hi", created=created))
    assert (await post_callback(client, query, body)).status == 200
    resp = await client.get("/api/v1/messages?channel=wechat", headers=bearer(client))
    return (await resp.json())["items"][0]["conversation_id"]


async def _reply(client, conversation_id: str, text: str) -> str:
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=bearer(client),
    )
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def _settled(db, message_id: str) -> dict:
    async def done():
        doc = await db.messages.find_one({"_id": message_id})
        return doc if doc["delivery"]["status"] in ("sent", "failed") else None

    return await wait_for(done, within=15)


async def test_replies_share_one_token_and_survive_its_expiry(
    wx_client, fake_wechat, db, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    conversation = await _conversation(wx_client, fake_wechat)
    for text in ("您好！", "second reply"):
        doc = await _settled(db, await _reply(wx_client, conversation, text))
        assert doc["delivery"]["status"] == "sent"
    assert [s["text"]["content"] for s in fake_wechat.sent] == ["您好！", "second reply"]
    assert all(s["touser"] == OPENID for s in fake_wechat.sent)
    assert fake_wechat.token_calls == 1

    fake_wechat.expire_tokens()  # WeChat answers 42001; the adapter refreshes once
    doc = await _settled(db, await _reply(wx_client, conversation, "after expiry"))
    assert doc["delivery"]["status"] == "sent"
    assert fake_wechat.token_calls == 2
    # The hub's own lines: the fake's access log is WeChat's side, and pymongo's command
    # log (which echoes stored documents) is held at WARNING by the hub's logging setup.
    ours = "\n".join(
        record.getMessage() + repr(record.__dict__)
        for record in caplog.records
        if not record.name.startswith(("pymongo", "aiohttp.access"))
    )
    tokens = list(fake_wechat.tokens)
    assert tokens and not any(token in ours for token in tokens)
    assert APP_SECRET not in ours and "wechat access token refreshed" in caplog.text


async def test_outside_the_48_hour_window_the_reply_fails_with_the_reason(
    wx_client, fake_wechat, db
) -> None:
    conversation = await _conversation(wx_client, fake_wechat)
    fake_wechat.customer_wrote(OPENID, at=time.time() - 49 * 3600)  # WeChat's view: 45015
    doc = await _settled(db, await _reply(wx_client, conversation, "too late"))
    assert doc["delivery"]["status"] == "failed"
    assert "48-hour" in doc["delivery"]["reason"] and "45015" in doc["delivery"]["reason"]
    assert fake_wechat.sent == []


async def test_a_window_known_closed_is_not_even_tried(wx_client, fake_wechat, db) -> None:
    conversation = await _conversation(wx_client, fake_wechat, created=int(time.time()) - 50 * 3600)
    token_calls = fake_wechat.token_calls
    doc = await _settled(db, await _reply(wx_client, conversation, "too late"))
    assert doc["delivery"]["status"] == "failed"
    assert "48-hour" in doc["delivery"]["reason"]
    assert fake_wechat.token_calls == token_calls and fake_wechat.sent == []


async def test_reply_limit_and_busy_platform(wx_client, fake_wechat, db) -> None:
    conversation = await _conversation(wx_client, fake_wechat)
    fake_wechat.fail_next_sends = [500, -1]  # a 5xx, then "system busy": both retried
    doc = await _settled(db, await _reply(wx_client, conversation, "eventually"))
    assert doc["delivery"]["status"] == "sent" and doc["delivery"]["attempts"] >= 3
    fake_wechat.replies_per_window = len(fake_wechat.sent)
    doc = await _settled(db, await _reply(wx_client, conversation, "one too many"))
    assert doc["delivery"]["status"] == "failed" and "45047" in doc["delivery"]["reason"]


async def test_long_reply_goes_in_parts_within_wechats_byte_limit(
    wx_client, fake_wechat, db
) -> None:
    conversation = await _conversation(wx_client, fake_wechat)
    text = "\n".join(f"第{n}行：谢谢您的耐心等待。" for n in range(300))
    doc = await _settled(db, await _reply(wx_client, conversation, text))
    assert doc["delivery"]["status"] == "sent"
    parts = [s["text"]["content"] for s in fake_wechat.sent]
    assert len(parts) > 1 and all(len(p.encode()) <= 2048 for p in parts)
    assert "\n".join(parts) == text


async def test_instances_share_the_stored_token(wx_client, wechat_server, fake_wechat) -> None:
    state = wx_client.app[HUB].channel_state
    base = str(wechat_server.make_url(""))
    first = WeChatApi(base, APP_ID, APP_SECRET, state, 3)
    second = WeChatApi(base, APP_ID, APP_SECRET, state, 3)
    try:
        assert await first.access_token() == await second.access_token()
        assert fake_wechat.token_calls == 1
    finally:
        await first.close()
        await second.close()


async def test_the_bot_answers_a_wechat_customer_in_chinese(
    config, wechat_server, fake_wechat, make_client, db
) -> None:
    from tests.helpers.bot import SAMPLE_KB
    from tests.helpers.wechat import wechat_config

    config.bot.enabled = True
    config.bot.knowledge_files = [SAMPLE_KB]
    client = await make_client(wechat_config(config, wechat_server))
    fake_wechat.customer_wrote(OPENID)
    query, body = encrypted_callback(text_xml("777", "怎么退货？"))
    assert (await post_callback(client, query, body)).status == 200

    async def answered():
        return fake_wechat.sent or None

    sent = await wait_for(answered, within=15)
    assert sent[0]["touser"] == OPENID
    assert any("退" in s["text"]["content"] for s in sent), sent


async def test_a_reply_with_a_file_wechat_cannot_carry_fails_with_the_reason(
    wx_client, fake_wechat, db
) -> None:
    conversation_id = await _conversation(wx_client, fake_wechat)
    resp = await wx_client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data=form(("terms.pdf", PDF), text="the terms"),
        headers=bearer(wx_client),
    )
    assert resp.status == 201
    doc = await _settled(db, (await resp.json())["id"])
    assert doc["delivery"]["status"] == "failed"
    reason = doc["delivery"]["reason"]
    assert "WeChat cannot carry terms.pdf (application/pdf)" in reason, reason
    assert "send a link" in reason
    assert fake_wechat.sent == [] and fake_wechat.uploads == {}
