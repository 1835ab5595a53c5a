"""Agents' images and voice to WeChat customers: uploaded as temporary media
(``/cgi-bin/media/upload``), then sent as customer-service image or voice messages. The
fake keeps WeChat's limits, so what it refuses is refused as WeChat would."""

from __future__ import annotations

import time
from typing import Any

import pytest

from adapters.wechat.api import WeChatApi, WeChatError
from hub.state import HUB
from tests.fakes.wechat_api import APP_ID, APP_SECRET
from tests.helpers.hub import bearer, wait_for
from tests.helpers.media import PDF, form, png
from tests.helpers.wechat import OPENID, encrypted_callback, post_callback, text_xml

AMR = b"#!AMR\n" + b"\x3c" * 64


async def _conversation(client: Any, fake: Any) -> str:
    fake.customer_wrote(OPENID)
    query, body = encrypted_callback(text_xml(str(time.time_ns()), "photo please?"))
    assert (await post_callback(client, query, body)).status == 200
    resp = await client.get("/api/v1/messages?channel=wechat", headers=bearer(client))
    return str((await resp.json())["items"][0]["conversation_id"])


async def _reply_with(client: Any, db: Any, conversation_id: str, *files: tuple[str, bytes],
                      text: str = "") -> dict[str, Any]:  # fmt: skip
    resp = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data=form(*files, text=text),
        headers=bearer(client),
    )
    assert resp.status == 201, await resp.text()
    message_id = (await resp.json())["id"]

    async def settled() -> dict[str, Any] | None:
        doc = await db.messages.find_one({"_id": message_id})
        return doc if doc["delivery"]["status"] in ("sent", "failed") else None

    doc: dict[str, Any] = await wait_for(settled, within=15)
    return doc


async def test_an_agent_image_and_voice_reach_the_customer(wx_client, fake_wechat, db) -> None:
    conversation = await _conversation(wx_client, fake_wechat)
    doc = await _reply_with(
        wx_client, db, conversation, ("shelf.png", png()), ("note.amr", AMR), text="Here it is"
    )
    assert doc["delivery"]["status"] == "sent", doc["delivery"]
    uploads = list(fake_wechat.uploads.items())
    assert [(kind, name, data) for _, (kind, name, data) in uploads] == [
        ("image", "shelf.png", png()),
        ("voice", "note.amr", AMR),
    ]
    image_id, voice_id = (media_id for media_id, _ in uploads)
    assert fake_wechat.sent == [
        {"touser": OPENID, "msgtype": "image", "image": {"media_id": image_id}},
        {"touser": OPENID, "msgtype": "voice", "voice": {"media_id": voice_id}},
        {"touser": OPENID, "msgtype": "text", "text": {"content": "Here it is"}},
    ]


@pytest.mark.parametrize(
    ("errcode", "words"),
    [
        (45015, "outside WeChat's 48-hour reply window"),
        (40007, "WeChat no longer has the uploaded file"),
    ],
)
async def test_a_refused_image_message_fails_with_wechats_reason(
    wx_client, fake_wechat, db, errcode: int, words: str
) -> None:
    conversation = await _conversation(wx_client, fake_wechat)
    fake_wechat.fail_next_sends.append(errcode)
    doc = await _reply_with(wx_client, db, conversation, ("shelf.png", png()), text="see")
    assert doc["delivery"]["status"] == "failed"
    reason = doc["delivery"]["reason"]
    assert reason.startswith(words) and reason.endswith(f"({errcode})"), reason
    assert fake_wechat.sent == []  # neither the image nor the text after it


async def test_a_busy_platform_retries_only_what_was_not_sent(wx_client, fake_wechat, db) -> None:
    conversation = await _conversation(wx_client, fake_wechat)
    # The image goes out, then WeChat is busy for the voice: the outbox tries again.
    fake_wechat.fail_next_sends.extend([0, -1])
    doc = await _reply_with(wx_client, db, conversation, ("shelf.png", png()), ("b.amr", AMR))
    assert doc["delivery"]["status"] == "sent", doc["delivery"]
    assert doc["delivery"]["attempts"] == 2
    assert [s["msgtype"] for s in fake_wechat.sent] == ["image", "voice"]  # the image once
    assert [kind for kind, _, _ in fake_wechat.uploads.values()] == ["image", "voice", "voice"]


async def test_the_fake_refuses_what_wechat_refuses(wx_client, wechat_server, fake_wechat) -> None:
    api = WeChatApi(
        str(wechat_server.make_url("")), APP_ID, APP_SECRET, wx_client.app[HUB].channel_state, 3
    )
    fake_wechat.customer_wrote(OPENID)
    try:
        refusals = {}
        for kind, data, name in [
            ("file", PDF, "terms.pdf"),  # an Official Account has no file media
            ("image", PDF, "terms.png"),  # judged by content, not by name
            ("image", png()[:8] + b"\x00" * (10 * 1024 * 1024), "huge.png"),
            ("voice", b"", "empty.amr"),
        ]:
            with pytest.raises(WeChatError) as refused:
                await api.upload_media(kind, data, name, "application/octet-stream")  # type: ignore[arg-type]
            refusals[name] = refused.value.errcode
        assert refusals == {"terms.pdf": 40004, "terms.png": 40005, "huge.png": 40009,
                            "empty.amr": 44001}  # fmt: skip
        image = await api.upload_media("image", png(), "a.png", "image/png")
        with pytest.raises(WeChatError) as wrong_kind:
            await api.send_media(OPENID, "voice", image)
        assert wrong_kind.value.errcode == 40007
        body = {"touser": OPENID, "msgtype": "file", "file": {"media_id": image}}
        token = await api.access_token()
        with pytest.raises(WeChatError) as no_file_message:
            await api._post("/cgi-bin/message/custom/send", body, token)
        assert no_file_message.value.errcode == 40008
        assert fake_wechat.sent == []
    finally:
        await api.close()
