"""The live feed shows what REST shows, and lives no longer than the token it was opened with."""

from __future__ import annotations

from typing import Any

from aiohttp import WSMsgType

from hub.cli.agents import add_agent
from hub.state import TOKENS
from tests.helpers.hub import bearer, ensure_agent
from tests.helpers.telegram import (
    fake_telegram,
    post_update,
    telegram_server,
    text_update,
    tg_client,
    tg_config,
)

__all__ = ["fake_telegram", "telegram_server", "tg_client", "tg_config"]

PASSWORD = "correct horse battery"


async def _frames_until(ws: Any, done: Any) -> list[dict[str, Any]]:
    """Frames received up to and including the first for which ``done(frame)`` holds."""
    seen = []
    while True:
        frame = await ws.receive_json(timeout=10)
        seen.append(frame)
        if done(frame):
            return seen


def _text_is(text: str) -> Any:
    return lambda f: f["type"] == "message" and f["message"]["text"] == text


async def _ready(ws: Any, token: str) -> None:
    await ws.send_json({"type": "auth", "token": token})
    assert (await ws.receive_json(timeout=10))["type"] == "ready"


async def test_agent_restricted_to_web_gets_no_telegram_event_live(tg_client, config) -> None:
    for agent_id in ("wendy", "ada"):  # tokens of unknown agents are refused
        ensure_agent(config, agent_id)
    tokens = tg_client.app[TOKENS]
    web_only = tokens.issue("wendy", "agent", allowed_channels=["web"])
    everyone = tokens.issue("ada", "agent")
    async with (
        tg_client.ws_connect("/inbox/ws") as restricted,
        tg_client.ws_connect("/inbox/ws") as full,
    ):
        await _ready(restricted, web_only)
        await _ready(full, everyone)
        assert (await post_update(tg_client, text_update(1, "telegram secret"))).status == 200
        seen = await _frames_until(full, _text_is("telegram secret"))
        telegram_id = seen[-1]["conversation"]["id"]
        resp = await tg_client.post(
            f"/api/v1/conversations/{telegram_id}/notes",
            json={"text": "private: refund approved"},
            headers={"Authorization": f"Bearer {everyone}"},
        )
        assert resp.status == 201
        resp = await tg_client.patch(
            f"/api/v1/conversations/{telegram_id}",
            json={"labels": ["vip"]},
            headers={"Authorization": f"Bearer {everyone}"},
        )
        assert resp.status == 200
        await _frames_until(full, lambda f: f["type"] == "conversation")
        async with tg_client.ws_connect("/chat") as customer:
            await customer.send_json({"type": "message", "text": "web hello", "client_id": "1"})
            seen = await _frames_until(restricted, _text_is("web hello"))

    # Everything before the web message was a Telegram event: none of it reached the socket.
    assert [f["conversation"]["channel"] for f in seen] == ["web"]
    assert "telegram secret" not in str(seen) and "refund" not in str(seen)
    # And REST agrees: the same conversation is not there for this token.
    resp = await tg_client.get(
        f"/api/v1/conversations/{telegram_id}", headers={"Authorization": f"Bearer {web_only}"}
    )
    assert resp.status == 404


async def _closed(ws: Any) -> tuple[int | None, str]:
    """Read until the hub closes the socket; its close code and reason."""
    while True:
        msg = await ws.receive(timeout=10)
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            return ws.close_code, str(msg.extra or "")


async def test_socket_closes_when_its_token_expires(client, config) -> None:
    ensure_agent(config, "bo")
    token = client.app[TOKENS].issue("bo", "agent", ttl_seconds=1)
    async with client.ws_connect("/inbox/ws") as ws:
        await _ready(ws, token)
        assert await _closed(ws) == (4401, "token_expired")


async def _login(client: Any) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.org", "password": PASSWORD}
    )
    assert resp.status == 200
    body: dict[str, Any] = await resp.json()
    return body


async def test_logout_and_refresh_reuse_close_the_sessions_sockets_at_once(client, config) -> None:
    """The periodic check is 30 s by default: a close within the 10 s wait came from the event."""
    await add_agent(config, "ada@example.org", "Ada", "agent", PASSWORD, None)
    first, second = await _login(client), await _login(client)
    async with (
        client.ws_connect("/inbox/ws") as ended,
        client.ws_connect("/inbox/ws") as other,
    ):
        await _ready(ended, first["access_token"])
        await _ready(other, second["access_token"])
        resp = await client.post(
            "/api/v1/auth/logout", json={"refresh_token": first["refresh_token"]}
        )
        assert resp.status == 204
        assert await _closed(ended) == (4401, "session_revoked")
        # The agent's other session is untouched: its socket still answers.
        await other.send_json({"type": "ping"})
        assert (await other.receive_json(timeout=10))["type"] == "pong"

        for _ in range(2):  # the second use of the same refresh token is a reuse
            resp = await client.post(
                "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
            )
        assert (await resp.json())["error"]["code"] == "refresh_reused"
        assert await _closed(other) == (4401, "session_revoked")


async def test_logout_on_another_instance_closes_the_socket_by_the_next_check(
    make_client, config
) -> None:
    config.web.agent_session_check_seconds = 0.2
    here, elsewhere = await make_client(config), await make_client(config)
    await add_agent(config, "ada@example.org", "Ada", "agent", PASSWORD, None)
    session = await _login(here)
    async with here.ws_connect("/inbox/ws") as ws:
        await _ready(ws, session["access_token"])
        resp = await elsewhere.post(
            "/api/v1/auth/logout", json={"refresh_token": session["refresh_token"]}
        )
        assert resp.status == 204
        assert await _closed(ws) == (4401, "session_revoked")


async def test_tokens_without_a_session_stream_until_they_expire(client) -> None:
    """``chorus token`` issues tokens with no session: only ``exp`` ends their sockets."""
    token = client.app[TOKENS].issue("svc", "viewer")
    async with client.ws_connect("/inbox/ws") as ws:
        await _ready(ws, token)
        async with client.ws_connect("/chat") as customer:
            await customer.send_json({"type": "message", "text": "seen", "client_id": "1"})
            await _frames_until(ws, _text_is("seen"))
    resp = await client.get("/api/v1/conversations", headers=bearer(client, "svc", "viewer"))
    assert resp.status == 200
