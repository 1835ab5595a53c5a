"""Fixtures for the Telegram channel: a fake Bot API on loopback and a hub pointed at it."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.telegram.config import TelegramConfig
from hub.config.model import ChorusConfig
from tests.fakes.telegram_api import FakeTelegramAPI

SECRET = "s3cret_Token-for-tests"
CHAT_ID = 424242
_ids = itertools.count(100)


@pytest.fixture
def fake_telegram() -> FakeTelegramAPI:
    return FakeTelegramAPI()


@pytest.fixture
async def telegram_server(
    fake_telegram: FakeTelegramAPI, aiohttp_server: Any
) -> AsyncIterator[TestServer]:
    server: TestServer = await aiohttp_server(fake_telegram.app)
    yield server
    fake_telegram.release_long_polls()


def telegram_config(
    config: ChorusConfig, server: TestServer, token: str, **overrides: Any
) -> ChorusConfig:
    """``config`` with the Telegram channel enabled against the fake server."""
    cfg = config.model_copy(deep=True)
    settings: dict[str, Any] = {
        "enabled": True,
        "bot_token": token,
        "webhook_secret": SECRET,
        "mode": "webhook",
        "api_base_url": str(server.make_url("/bot")),
        "file_base_url": str(server.make_url("/file/bot")),
        "poll_timeout_seconds": 1,
        "request_timeout_seconds": 3,
        **overrides,
    }
    cfg.telegram = TelegramConfig.model_validate(settings)
    return cfg


@pytest.fixture
def tg_config(
    config: ChorusConfig, telegram_server: TestServer, fake_telegram: FakeTelegramAPI
) -> ChorusConfig:
    return telegram_config(config, telegram_server, fake_telegram.token)


@pytest.fixture
async def tg_client(
    telegram_server: TestServer, make_client: Any, tg_config: ChorusConfig
) -> TestClient[web.Request, web.Application]:
    """The hub in webhook mode, talking to the fake Bot API."""
    client: TestClient[web.Request, web.Application] = await make_client(tg_config)
    return client


async def post_update(
    client: TestClient[web.Request, web.Application],
    update: dict[str, Any],
    secret: str | None = SECRET,
) -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await client.post("/webhooks/telegram", json=update, headers=headers)


def user(user_id: int = CHAT_ID, first: str = "Ada", last: str | None = "Lovelace") -> dict:
    sender: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first,
        "username": "ada_l",
        "language_code": "en",
    }
    if last:
        sender["last_name"] = last
    return sender


def message(
    message_id: int | None = None, chat_id: int = CHAT_ID, **content: Any
) -> dict[str, Any]:
    """A private-chat ``Message`` as the Bot API sends it, with the given content fields."""
    sender = user(chat_id)
    return {
        "message_id": message_id if message_id is not None else next(_ids),
        "from": sender,
        "chat": {
            "id": chat_id,
            "first_name": sender["first_name"],
            "last_name": sender.get("last_name", ""),
            "username": sender["username"],
            "type": "private",
        },
        "date": int(time.time()),
        **content,
    }


def update(update_id: int, kind: str = "message", **fields: Any) -> dict[str, Any]:
    return {"update_id": update_id, kind: message(**fields)}


def text_update(update_id: int, text: str, **fields: Any) -> dict[str, Any]:
    payload = update(update_id, text=text, **fields)
    if text.startswith("/"):
        command = text.split()[0]
        payload["message"]["entities"] = [
            {"offset": 0, "length": len(command), "type": "bot_command"}
        ]
    return payload
