"""Fixtures for the WeChat channel: a fake WeChat API on loopback, a hub pointed at it, and
callbacks signed and encrypted by wechatpy (WeChat's Python SDK), not by the hub's code."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from adapters.wechat.config import WeChatConfig
from hub.config.model import ChorusConfig
from tests.fakes.wechat_api import APP_ID, APP_SECRET, FakeWeChatAPI

TOKEN = "chorus-wechat-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
OPENID = "oABCD1234efgh5678ijkl9012mnop"


def signed_query(
    nonce: str = "1320562132", timestamp_at: int | None = None, **extra: str
) -> dict[str, str]:
    """A callback's query signed by wechatpy's signer over the token, timestamp and nonce."""
    timestamp = str(int(time.time()) if timestamp_at is None else timestamp_at)
    signer = WeChatSigner()
    signer.add_data(TOKEN, timestamp, nonce)
    return {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, **extra}


def text_xml(msg_id: str, content: str, openid: str = OPENID, created: int | None = None) -> str:
    """A text message as WeChat's documentation shows it."""
    return (
        "<xml><ToUserName><![CDATA[gh_chorus]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def encrypted_callback(xml: str, app_id: str = APP_ID) -> tuple[dict[str, str], bytes]:
    """A safe-mode callback: wechatpy encrypts and signs; the body is what WeChat posts."""
    query = signed_query()
    crypto = WeChatCrypto(TOKEN, AES_KEY, app_id)
    reply = fromstring(crypto.encrypt_message(xml, query["nonce"], query["timestamp"]))
    encrypt, msg_signature = reply.findtext("Encrypt"), reply.findtext("MsgSignature")
    body = (
        "<xml><ToUserName><![CDATA[gh_chorus]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    return {**query, "encrypt_type": "aes", "msg_signature": msg_signature}, body.encode()


@pytest.fixture
def fake_wechat() -> FakeWeChatAPI:
    return FakeWeChatAPI()


@pytest.fixture
async def wechat_server(
    fake_wechat: FakeWeChatAPI, aiohttp_server: Any
) -> AsyncIterator[TestServer]:
    server: TestServer = await aiohttp_server(fake_wechat.app)
    yield server


def wechat_config(config: ChorusConfig, server: TestServer, **overrides: Any) -> ChorusConfig:
    cfg = config.model_copy(deep=True)
    cfg.wechat = WeChatConfig.model_validate(
        {
            "enabled": True,
            "app_id": APP_ID,
            "app_secret": APP_SECRET,
            "token": TOKEN,
            "encoding_aes_key": AES_KEY,
            "mode": "safe",
            "api_base_url": str(server.make_url("")),
            "request_timeout_seconds": 3,
            **overrides,
        }
    )
    return cfg


Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def wx_client(config: ChorusConfig, wechat_server: TestServer, make_client: Any) -> Client:
    """The hub in safe mode against the fake API."""
    client: Client = await make_client(wechat_config(config, wechat_server))
    return client


@pytest.fixture
async def wx_plain(config: ChorusConfig, wechat_server: TestServer, make_client: Any) -> Client:
    client: Client = await make_client(wechat_config(config, wechat_server, mode="plain"))
    return client


async def post_callback(client: Client, query: dict[str, str], body: bytes | str) -> Any:
    data = body.encode() if isinstance(body, str) else body
    return await client.post(
        f"/webhooks/wechat?{urlencode(query)}", data=data, headers={"Content-Type": "text/xml"}
    )
