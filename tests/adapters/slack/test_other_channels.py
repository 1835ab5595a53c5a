"""Slack agents answer customers of every channel: a WeChat customer and an API-channel
customer each get the reply an agent typed in the conversation's Slack thread."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hub.config.model import ChorusConfig
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.wechat_api import FakeWeChatAPI
from tests.helpers.hub import MakeClient, bearer, wait_for
from tests.helpers.slack import ADA, Client, SlackSender, hand_off
from tests.helpers.wechat import (
    OPENID,
    encrypted_callback,
    post_callback,
    text_xml,
    wechat_config,
)


@pytest.fixture
async def wechat_api(aiohttp_server: Any) -> tuple[FakeWeChatAPI, Any]:
    fake = FakeWeChatAPI()
    return fake, await aiohttp_server(fake.app)


@pytest.fixture
async def client(
    make_client: MakeClient, slack_config: ChorusConfig, wechat_api: tuple[FakeWeChatAPI, Any]
) -> Client:
    return await make_client(wechat_config(slack_config, wechat_api[1]))


async def test_a_slack_agent_answers_a_wechat_customer(
    client: Client, db: Any, slack: SlackSender, slack_api: FakeSlackApi, wechat_api: Any
) -> None:
    fake_wechat, _ = wechat_api
    fake_wechat.customer_wrote(OPENID)
    query, body = encrypted_callback(text_xml(str(time.time_ns()), "我的快递到哪里了？"))
    assert (await post_callback(client, query, body)).status == 200
    stored = await db.messages.find_one({"channel": "wechat"})
    header_ts = await hand_off(client, db, slack_api, stored["conversation_id"])

    resp = await slack.event(slack.thread_reply(ADA, header_ts, "已经发货了，明天到。"))
    assert resp.status == 200

    async def delivered() -> Any:
        return fake_wechat.sent or None

    (sent,) = await wait_for(delivered, within=15)
    assert sent["touser"] == OPENID and sent["text"]["content"] == "已经发货了，明天到。"


async def test_a_slack_agent_answers_an_api_channel_customer(
    client: Client, db: Any, slack: SlackSender, slack_api: FakeSlackApi, aiohttp_server: Any
) -> None:
    from aiohttp import web

    received: list[Any] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = await aiohttp_server(app)
    resp = await client.post(
        "/api/v1/api-channels",
        json={"name": "SMS", "webhook_url": str(server.make_url("/hook"))},
        headers=bearer(client, role="admin"),
    )
    inbox = await resp.json()
    resp = await client.post(
        f"/api/v1/api-channels/{inbox['id']}/messages",
        json={"message_id": "sms-1", "contact": {"id": "+15550100"}, "text": "Is it shipped?"},
        headers={"Authorization": f"Bearer {inbox['token']}"},
    )
    posted = await resp.json()
    header_ts = await hand_off(client, db, slack_api, posted["conversation_id"])
    assert (await slack.event(slack.thread_reply(ADA, header_ts, "Yes, today."))).status == 200

    async def delivered() -> Any:
        return received or None

    (event,) = await wait_for(delivered, within=15)
    assert event["message"]["text"] == "Yes, today."
    assert event["message"]["contact_id"] == "+15550100"
