"""The agents' live feed between two hub processes on one database: what instance A
stores reaches the inbox sockets on instance B, once, as the channel rule allows."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestServer

from hub.access.tokens import TokenService
from hub.config.model import ChorusConfig
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.helpers.hub import ensure_agent, wait_for
from tests.helpers.instances import serve_env, two_hubs
from tests.helpers.telegram import SECRET, fake_telegram, telegram_server, text_update

__all__ = ["fake_telegram", "telegram_server"]  # fixtures pytest finds here


async def _frame(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == kind:
            return frame


async def _frames_until(ws: ClientWebSocketResponse, message_id: str) -> list[dict[str, Any]]:
    """Every frame up to the message ``message_id``: a change stored after all the others,
    so once it arrives nothing stored before it can still be on its way."""
    frames = []
    while True:
        frame = await ws.receive_json(timeout=10)
        frames.append(frame)
        if frame.get("message", {}).get("id") == message_id:
            return frames


def _shown(frames: list[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """Per conversation, in order: (frame type, message id or conversation status)."""
    shown: dict[str, list[tuple[str, str]]] = {}
    for f in frames:
        if "conversation" in f:
            what = f["message"]["id"] if "message" in f else f["conversation"]["status"]
            shown.setdefault(f["conversation"]["id"], []).append((f["type"], what))
    return shown


def _env(config: ChorusConfig, tmp_path: Any, telegram: TestServer, token: str) -> dict[str, str]:
    return {
        **serve_env(config, tmp_path),
        "CHORUS_TELEGRAM__ENABLED": "true",
        "CHORUS_TELEGRAM__BOT_TOKEN": token,
        "CHORUS_TELEGRAM__WEBHOOK_SECRET": SECRET,
        "CHORUS_TELEGRAM__MODE": "webhook",
        "CHORUS_TELEGRAM__API_BASE_URL": str(telegram.make_url("/bot")),
        "CHORUS_TELEGRAM__FILE_BASE_URL": str(telegram.make_url("/file/bot")),
    }


async def test_inbox_changes_of_a_reach_agents_on_b_once(
    config: ChorusConfig, db, tmp_path, telegram_server: TestServer, fake_telegram: FakeTelegramAPI
) -> None:
    ensure_agent(config, "agent-bo")
    ensure_agent(config, "agent-wu")
    tokens = TokenService(config.auth)
    token = tokens.issue("agent-bo", "agent", name="Bo")
    web_only = tokens.issue("agent-wu", "agent", name="Wu", allowed_channels=["web"])
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        two_hubs(_env(config, tmp_path, telegram_server, fake_telegram.token)) as (a, b),
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{a}/chat") as customer,
        http.ws_connect(f"{a}/inbox/ws") as agent_on_a,
        http.ws_connect(f"{b}/inbox/ws") as agent,
        http.ws_connect(f"{b}/inbox/ws") as web_agent,
    ):
        for ws, bearer in ((agent_on_a, token), (agent, token), (web_agent, web_only)):
            await ws.send_json({"type": "auth", "token": bearer})
            await _frame(ws, "ready")
        await customer.send_json({"type": "hello", "name": "Ada"})
        await _frame(customer, "welcome")
        await customer.send_json({"type": "message", "text": "Hello?", "client_id": "c1"})
        first = (await _frame(customer, "ack"))["id"]  # stored by A
        conversation_id = (await db.messages.find_one({"_id": first}))["conversation_id"]

        async with http.post(
            f"{a}/webhooks/telegram",
            json=text_update(7001, "Hi from Telegram"),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        ) as resp:
            assert resp.status == 200
        telegram = await wait_for(lambda: db.messages.find_one({"channel": "telegram"}))

        async with http.post(  # stored by B: its own event, and the stream brings it back
            f"{b}/api/v1/conversations/{conversation_id}/messages",
            json={"text": "Hi Ada"},
            headers=headers,
        ) as resp:
            assert resp.status == 201
            reply = (await resp.json())["id"]
        for base, status in ((a, "pending"), (b, "resolved")):
            async with http.patch(
                f"{base}/api/v1/conversations/{conversation_id}",
                json={"status": status},
                headers=headers,
            ) as resp:
                assert resp.status == 200

        await customer.send_json({"type": "message", "text": "Thanks", "client_id": "c2"})
        last = (await _frame(customer, "ack"))["id"]

        on_a = _shown(await _frames_until(agent_on_a, last))
        on_b = _shown(await _frames_until(agent, last))
        assert on_b == on_a  # the same frames, once each, in the same order per conversation
        telegram_conversation = telegram["conversation_id"]
        assert ("message", telegram["_id"]) in on_b[telegram_conversation]
        assert on_b[conversation_id][:2] == [("message", first), ("conversation", "open")]
        assert on_b[conversation_id].count(("message", reply)) == 1  # B's own, not doubled
        assert ("conversation", "pending") in on_b[conversation_id]  # a change made on A
        del on_a[telegram_conversation]
        assert _shown(await _frames_until(web_agent, last)) == on_a  # no Telegram frame
