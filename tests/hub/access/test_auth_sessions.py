"""Password login, rotating refresh tokens, reuse detection and logout, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from hub.cli.agents import add_agent

PASSWORD = "correct horse battery"


@pytest.fixture
async def ada(client, config) -> None:
    await add_agent(config, "ada@example.org", "Ada", "admin", PASSWORD, None)


async def _post(client, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    resp = await client.post(f"/api/v1/auth/{path}", json=body)
    return resp.status, (await resp.json() if resp.status != 204 else None)


async def test_login_returns_tokens_that_call_the_api(client, db, ada) -> None:
    status, body = await _post(client, "login", {"email": "ADA@example.org", "password": PASSWORD})
    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["agent"] == {"id": "ada", "name": "Ada", "role": "admin"}
    resp = await client.get(
        "/api/v1/config", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert resp.status == 200
    shown = await resp.json()
    assert shown["auth"]["jwt_secret"] == "********"
    stored = await db.agents.find_one({"_id": "ada"})
    assert stored["password_hash"].startswith("$argon2")
    resp = await client.get(
        "/api/v1/agents", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert "password_hash" not in str(await resp.json())
    tokens = await db.refresh_tokens.find({}).to_list()
    assert len(tokens) == 1 and body["refresh_token"] not in str(tokens)


async def test_wrong_password_and_unknown_account_get_the_same_answer(client, ada) -> None:
    wrong = await _post(client, "login", {"email": "ada@example.org", "password": "nope-nope"})
    unknown = await _post(client, "login", {"email": "bo@example.org", "password": "nope-nope"})
    assert wrong == unknown
    assert wrong[0] == 401 and wrong[1]["error"]["code"] == "invalid_credentials"


async def test_login_attempts_are_limited_per_account(client, ada) -> None:
    attempt = {"email": "ada@example.org", "password": "guess-guess"}
    statuses = [(await _post(client, "login", attempt))[0] for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    status, _ = await _post(client, "login", {**attempt, "password": PASSWORD})
    assert status == 429


async def test_refresh_rotates_and_reuse_revokes_the_family(client, ada) -> None:
    _, first = await _post(client, "login", {"email": "ada@example.org", "password": PASSWORD})
    status, second = await _post(client, "refresh", {"refresh_token": first["refresh_token"]})
    assert status == 200 and second["refresh_token"] != first["refresh_token"]
    assert second["agent"]["id"] == "ada" and second["access_token"]

    status, body = await _post(client, "refresh", {"refresh_token": first["refresh_token"]})
    assert (status, body["error"]["code"]) == (401, "refresh_reused")
    # The thief's replay also ended the legitimate holder's session.
    status, body = await _post(client, "refresh", {"refresh_token": second["refresh_token"]})
    assert (status, body["error"]["code"]) == (401, "invalid_refresh")


async def test_logout_revokes_the_refresh_token(client, db, ada) -> None:
    _, session = await _post(client, "login", {"email": "ada@example.org", "password": PASSWORD})
    status, _ = await _post(client, "logout", {"refresh_token": session["refresh_token"]})
    assert status == 204
    status, body = await _post(client, "refresh", {"refresh_token": session["refresh_token"]})
    assert (status, body["error"]["code"]) == (401, "invalid_refresh")
    indexes = await db.refresh_tokens.index_information()
    assert indexes["expiry_ttl"]["expireAfterSeconds"] == 0


async def test_config_view_is_admin_only(client) -> None:
    from tests.helpers.hub import bearer

    resp = await client.get("/api/v1/config", headers=bearer(client, role="agent"))
    assert resp.status == 403
