"""WeChat callbacks: server verification, plain and safe mode, retries, and what is refused.

Encrypted bodies and signatures are made by wechatpy; example bodies follow WeChat's
"receiving standard messages" documentation.
"""

from __future__ import annotations

from urllib.parse import urlencode

from tests.helpers.scrape import scrape
from tests.helpers.wechat import (
    OPENID,
    encrypted_callback,
    post_callback,
    signed_query,
    text_xml,
)


async def test_server_verification_echoes_only_a_signed_echostr(wx_client, db) -> None:
    query = signed_query(echostr="5837397520665436492")
    resp = await wx_client.get(f"/webhooks/wechat?{urlencode(query)}")
    assert resp.status == 200 and await resp.text() == "5837397520665436492"

    forged = {**query, "signature": "0" * 40, "echostr": '{"forged": "body"}'}
    resp = await wx_client.get(f"/webhooks/wechat?{urlencode(forged)}")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_signature"
    resp = await wx_client.get("/webhooks/wechat?echostr=x")
    assert resp.status == 401


async def test_safe_mode_message_is_stored_once_across_retries(wx_client, db) -> None:
    query, body = encrypted_callback(text_xml("1234567890123456", "你好，我的订单在哪里？"))
    for _ in range(3):  # WeChat retries after 5 s, three times
        resp = await post_callback(wx_client, query, body)
        assert resp.status == 200 and await resp.text() == "success"
    stored = await db.messages.find({"channel": "wechat"}).to_list()
    assert [m["text"] for m in stored] == ["你好，我的订单在哪里？"]
    assert stored[0]["external_id"] == "1234567890123456"
    conversation = await db.conversations.find_one({"_id": stored[0]["conversation_id"]})
    assert conversation["route"]["openid"] == OPENID


async def test_safe_mode_refuses_tampering_and_other_accounts(wx_client, db) -> None:
    query, body = encrypted_callback(text_xml("1", "hello"))
    resp = await post_callback(wx_client, {**query, "msg_signature": "f" * 40}, body)
    assert resp.status == 401
    resp = await post_callback(wx_client, {**query, "signature": "f" * 40}, body)
    assert resp.status == 401

    other_query, other_body = encrypted_callback(text_xml("2", "hello"), app_id="wxotheraccount00")
    resp = await post_callback(wx_client, other_query, other_body)
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "invalid_encrypted_body"

    plain_query = signed_query()  # a plain body where safe mode is configured
    resp = await post_callback(wx_client, plain_query, text_xml("3", "hello"))
    assert resp.status == 401
    assert await db.messages.count_documents({}) == 0


async def test_plain_mode_reads_the_documented_message_kinds(wx_plain, db) -> None:
    now = signed_query()["timestamp"]
    bodies = {
        "10": text_xml("10", "this is a test"),
        "11": (
            "<xml><ToUserName><![CDATA[toUser]]></ToUserName>"
            f"<FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>{now}</CreateTime>"
            "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]></MediaId>"
            "<Format><![CDATA[amr]]></Format><Recognition><![CDATA[腾讯微信团队]]></Recognition>"
            "<MsgId>11</MsgId></xml>"
        ),
        "12": (
            "<xml><ToUserName><![CDATA[toUser]]></ToUserName>"
            f"<FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>{now}</CreateTime>"
            "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>"
            "<MediaId><![CDATA[media_id]]></MediaId><MsgId>12</MsgId></xml>"
        ),
        "13": (
            "<xml><ToUserName><![CDATA[toUser]]></ToUserName>"
            f"<FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>{now}</CreateTime>"
            "<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X>"
            "<Location_Y>113.358803</Location_Y><Scale>20</Scale>"
            "<Label><![CDATA[位置信息]]></Label><MsgId>13</MsgId></xml>"
        ),
    }
    for body in bodies.values():
        resp = await post_callback(wx_plain, signed_query(), body)
        assert resp.status == 200, await resp.text()
    stored = {m["external_id"]: m async for m in db.messages.find({"channel": "wechat"})}
    assert stored["10"]["text"] == "this is a test"
    assert stored["11"]["text"] == "腾讯微信团队"
    assert stored["11"]["attachments"][0]["kind"] == "audio"
    assert stored["12"]["attachments"][0]["url"] == "http://mmbiz.qpic.cn/x"
    assert "位置信息" in stored["13"]["text"] and "23.134521" in stored["13"]["text"]


async def test_events_follow_and_menu_clicks_are_stored_unfollow_is_not(wx_plain, db) -> None:
    def event(name: str, extra: str = "") -> str:
        return (
            "<xml><ToUserName><![CDATA[toUser]]></ToUserName>"
            f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{signed_query()['timestamp']}</CreateTime>"
            f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{name}]]></Event>{extra}</xml>"
        )

    for body in (
        event("subscribe"),
        event("subscribe"),  # the same event retried
        event("CLICK", "<EventKey><![CDATA[ORDER_STATUS]]></EventKey>"),
        event("unsubscribe"),
        event("x" * 200),  # an event name the hub does not know: one bounded label
        event("").replace("<MsgType><![CDATA[event]]>", "<MsgType><![CDATA[miniprogrampage]]>"),
    ):
        assert (await post_callback(wx_plain, signed_query(), body)).status == 200
    stored = [m async for m in db.messages.find({"channel": "wechat"}, sort=[("_id", 1)])]
    assert [m["text"] for m in stored] == ["", "ORDER_STATUS"]
    skipped = {
        dict(labels)["reason"]: value
        for (name, labels), value in (await scrape(wx_plain)).samples.items()
        if name == "chorus_inbound_skipped_total" and dict(labels).get("channel") == "wechat"
    }
    # A kind not read yet is answered "success" (else WeChat retries, then tells the
    # customer the account failed) and counted.
    assert skipped == {"unsubscribe": 1, "other_event": 1, "other_message": 1}


async def test_hostile_and_stale_bodies_are_refused_and_nothing_is_stored(wx_plain, db) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        "<xml><Content>&lol2;</Content></xml>"
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f"<xml><FromUserName>{OPENID}</FromUserName><MsgType>text</MsgType>"
        "<Content>&e;</Content><MsgId>9</MsgId><CreateTime>1</CreateTime></xml>"
    )
    for body in (bomb, external, "not xml", "<xml><a><b>nested</b></a></xml>"):
        resp = await post_callback(wx_plain, signed_query(), body)
        assert resp.status == 400, body
        assert (await resp.json())["error"]["code"] in ("invalid_xml", "invalid_message")
    stale = signed_query(timestamp_at=1_348_831_860)
    resp = await post_callback(wx_plain, stale, text_xml("20", "replayed"))
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "stale_timestamp"
    resp = await post_callback(wx_plain, signed_query(), "<xml>" + "x" * 300_000 + "</xml>")
    assert resp.status == 413
    assert await db.messages.count_documents({}) == 0
