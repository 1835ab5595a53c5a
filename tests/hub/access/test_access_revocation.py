"""Access tokens end with their session and their agent: logout, refresh-token reuse,
disabling the agent, or an agent that does not exist. The cached check's bound is shown
with an injected clock."""

from __future__ import annotations

from typing import Any

import pytest

from hub.access.tokens import ACCESS, token_still_valid
from hub.cli.agents import add_agent
from hub.state import TOKENS
from tests.helpers.hub import bearer

PASSWORD = "correct horse battery"


@pytest.fixture
async def ada(client, config) -> None:
    await add_agent(config, "ada@example.org", "Ada", "agent", PASSWORD, None)


async def _post(
    client, path: str, body: dict[str, Any] | None = None, **kw: Any
) -> tuple[int, Any]:
    resp = await client.post(path, json=body, **kw)
    return resp.status, (await resp.json() if resp.status != 204 else None)


async def _login(client) -> dict[str, Any]:
    status, body = await _post(
        client, "/api/v1/auth/login", {"email": "ada@example.org", "password": PASSWORD}
    )
    assert status == 200, body
    return dict(body)


async def _call(client, access: str) -> tuple[int, str | None]:
    resp = await client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {access}"})
    body = await resp.json()
    return resp.status, body.get("error", {}).get("code")


async def test_login_tokens_name_their_session(client, ada) -> None:
    session = await _login(client)
    claims = client.app[TOKENS].verify(session["access_token"]).claims
    assert isinstance(claims["sid"], str) and claims["sid"]
    assert await _call(client, session["access_token"]) == (200, None)


async def test_logout_ends_the_access_token(client, ada) -> None:
    session = await _login(client)
    status, _ = await _post(
        client, "/api/v1/auth/logout", {"refresh_token": session["refresh_token"]}
    )
    assert status == 204
    assert await _call(client, session["access_token"]) == (401, "session_revoked")


async def test_refresh_reuse_ends_every_access_token_of_the_session(client, ada) -> None:
    first = await _login(client)
    _, second = await _post(
        client, "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]}
    )
    assert await _call(client, second["access_token"]) == (200, None)
    status, _ = await _post(
        client, "/api/v1/auth/refresh", {"refresh_token": first["refresh_token"]}
    )
    assert status == 401
    assert await _call(client, first["access_token"]) == (401, "session_revoked")
    assert await _call(client, second["access_token"]) == (401, "session_revoked")


async def test_a_token_naming_no_agent_is_refused(client) -> None:
    ghost = client.app[TOKENS].issue("ghost", "admin")
    assert await _call(client, ghost) == (401, "unknown_agent")


async def test_disable_and_enable_an_agent_through_the_api(client, db, ada) -> None:
    session = await _login(client)
    admin = bearer(client, sub="root", role="admin")
    status, _ = await _post(client, "/api/v1/agents/ada/disable", headers=bearer(client))
    assert status == 403  # agents may not
    status, body = await _post(client, "/api/v1/agents/root/disable", headers=admin)
    assert (status, body["error"]["code"]) == (409, "self_disable")
    status, _ = await _post(client, "/api/v1/agents/nobody/disable", headers=admin)
    assert status == 404

    status, body = await _post(client, "/api/v1/agents/ada/disable", headers=admin)
    assert status == 200 and body["disabled"] is True
    assert await _call(client, session["access_token"]) == (401, "agent_disabled")
    status, body = await _post(
        client, "/api/v1/auth/refresh", {"refresh_token": session["refresh_token"]}
    )
    assert status == 401
    status, body = await _post(
        client, "/api/v1/auth/login", {"email": "ada@example.org", "password": PASSWORD}
    )
    assert (status, body["error"]["code"]) == (401, "invalid_credentials")
    assert await db.refresh_tokens.count_documents({"agent_id": "ada", "revoked": False}) == 0
    assert await db.audit_log.count_documents({"action": "POST /api/v1/agents/{id}/disable"}) == 1
    # Nobody puts a disabled agent back in the assignment queue.
    resp = await client.put("/api/v1/agents/ada/status", json={"online": True}, headers=admin)
    assert (resp.status, (await resp.json())["error"]["code"]) == (409, "agent_disabled")

    status, body = await _post(client, "/api/v1/agents/ada/enable", headers=admin)
    assert status == 200 and body["disabled"] is False
    # Enabling lets the agent log in again; the old session stays ended.
    assert await _call(client, session["access_token"]) == (401, "session_revoked")
    assert await _call(client, (await _login(client))["access_token"]) == (200, None)


async def test_a_revocation_elsewhere_is_honoured_within_the_configured_bound(
    client, db, ada
) -> None:
    """Another instance revoked the session (straight in the database): this instance
    honours its cached answer for ``sessions.revocation_check_seconds``, never longer."""
    now = [1_000_000.0]
    check = client.app[ACCESS]
    check.clock = lambda: now[0]
    bound = check.ttl
    assert bound == 5.0
    session = await _login(client)
    access = session["access_token"]
    # The token's exp is real wall time; keep the fake clock before it.
    now[0] = float(client.app[TOKENS].verify(access).claims["iat"])
    assert await _call(client, access) == (200, None)
    await db.refresh_tokens.update_many({"agent_id": "ada"}, {"$set": {"revoked": True}})
    now[0] += bound - 0.01
    assert await _call(client, access) == (200, None)
    now[0] += 0.01
    assert await _call(client, access) == (401, "session_revoked")

    token = bearer(client, sub="root", role="admin")["Authorization"].removeprefix("Bearer ")
    assert await _call(client, token) == (200, None)
    await db.agents.update_one({"_id": "root"}, {"$set": {"disabled": True}})
    now[0] += bound
    assert await _call(client, token) == (401, "agent_disabled")


async def test_expired_tokens_are_not_still_valid(client, ada) -> None:
    """The question other code asks about a live socket's token answers no after exp."""
    session = await _login(client)
    principal = client.app[TOKENS].verify(session["access_token"])
    assert await token_still_valid(client.app, principal)
    client.app[ACCESS].clock = lambda: float(principal.claims["exp"])
    assert not await token_still_valid(client.app, principal)
