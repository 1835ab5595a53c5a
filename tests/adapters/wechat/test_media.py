"""WeChat images and voice: fetched with the media API (``/cgi-bin/media/get``) into the
hub's media store after the callback is answered. Payloads as WeChat's documentation
shows them."""

from __future__ import annotations

from typing import Any

from hub.state import ADAPTERS
from tests.helpers.hub import bearer, wait_for
from tests.helpers.media import png
from tests.helpers.presence import agent_online
from tests.helpers.web_chat import next_frame
from tests.helpers.wechat import OPENID, post_callback, signed_query

AMR = b"#!AMR\n" + b"\x3c" * 64


def _media_xml(kind: str, msg_id: str, media_id: str, extra: str = "") -> str:
    now = signed_query()["timestamp"]
    return (
        "<xml><ToUserName><![CDATA[toUser]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>{now}</CreateTime>"
        f"<MsgType><![CDATA[{kind}]]></MsgType>{extra}"
        f"<MediaId><![CDATA[{media_id}]]></MediaId><MsgId>{msg_id}</MsgId></xml>"
    )


async def _idle(client: Any) -> bool:
    return not client.app[ADAPTERS]["wechat"]._media_tasks


async def test_image_and_voice_are_fetched_into_the_media_store(wx_plain, fake_wechat, db):
    fake_wechat.add_media("IMG_MEDIA_1", "image/jpeg", png(500, 400))
    fake_wechat.add_media("VOICE_MEDIA_1", "audio/amr", AMR)
    image = _media_xml("image", "21", "IMG_MEDIA_1",
                       "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>")  # fmt: skip
    voice = _media_xml("voice", "22", "VOICE_MEDIA_1", "<Format><![CDATA[amr]]></Format>")
    for body in (image, voice):
        assert (await post_callback(wx_plain, signed_query(), body)).status == 200

    async def kept() -> dict[str, Any] | None:
        docs = {m["external_id"]: m async for m in db.messages.find({"channel": "wechat"})}
        ready = all(d["attachments"][0].get("media_id") for d in docs.values())
        return docs if len(docs) == 2 and ready else None

    docs = await wait_for(kept)
    assert fake_wechat.media_calls == ["IMG_MEDIA_1", "VOICE_MEDIA_1"]
    photo, sound = docs["21"]["attachments"][0], docs["22"]["attachments"][0]
    assert (photo["mime_type"], photo["width"], photo["url"]) == (
        "image/png", 500, "http://mmbiz.qpic.cn/x"
    )  # fmt: skip
    assert (sound["kind"], sound["mime_type"]) == ("audio", "audio/amr")
    resp = await wx_plain.get(f"/api/v1/messages/{docs['22']['_id']}", headers=bearer(wx_plain))
    link = (await resp.json())["attachments"][0]["download_url"]
    assert await (await wx_plain.get(link)).read() == AMR


async def test_an_expired_token_is_refreshed_and_an_unknown_media_keeps_the_callback(
    wx_plain, fake_wechat, db
):
    fake_wechat.add_media("IMG_MEDIA_2", "image/jpeg", png())
    body = _media_xml("image", "31", "IMG_MEDIA_2")
    assert (await post_callback(wx_plain, signed_query(), body)).status == 200
    await wait_for(lambda: _idle(wx_plain))
    fake_wechat.expire_tokens()
    calls_before = fake_wechat.token_calls
    body = _media_xml("image", "32", "IMG_MEDIA_2")
    assert (await post_callback(wx_plain, signed_query(), body)).status == 200
    missing = _media_xml("image", "33", "GONE_AFTER_THREE_DAYS")
    assert (await post_callback(wx_plain, signed_query(), missing)).status == 200
    await wait_for(lambda: _idle(wx_plain))
    docs = {m["external_id"]: m async for m in db.messages.find({"channel": "wechat"})}
    assert docs["32"]["attachments"][0]["media_id"] is not None
    assert fake_wechat.token_calls == calls_before + 1
    assert docs["33"]["attachments"][0]["media_id"] is None
    assert docs["33"]["attachments"][0]["name"] == "GONE_AFTER_THREE_DAYS"


async def test_the_open_inbox_is_told_when_a_customer_image_is_fetched(wx_plain, fake_wechat):
    fake_wechat.add_media("IMG_MEDIA_LIVE", "image/jpeg", png(300, 200))
    async with agent_online(wx_plain) as feed:
        body = _media_xml("image", "41", "IMG_MEDIA_LIVE")
        assert (await post_callback(wx_plain, signed_query(), body)).status == 200
        first = await next_frame(feed, "message")
        assert first["message"]["attachments"][0]["media_id"] is None
        fetched = await next_frame(feed, "message_files")
    message = fetched["message"]
    assert message["id"] == first["message"]["id"]
    assert message["attachments"][0]["width"] == 300
    resp = await wx_plain.get(f"/api/v1/messages/{message['id']}", headers=bearer(wx_plain))
    (linked,) = (await resp.json())["attachments"]
    assert (await wx_plain.get(linked["thumbnail_url"])).status == 200
