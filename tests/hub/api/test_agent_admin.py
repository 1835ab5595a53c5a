"""Administration endpoints the browser uses: add an agent, change a role, rules history."""

from __future__ import annotations

from typing import Any

from tests.helpers.api import Client
from tests.helpers.hub import bearer

PASSWORD = "a-first-password-1"


async def test_an_added_agent_logs_in_with_the_first_password(client: Client) -> None:
    admin = bearer(client, "root", role="admin")
    body = {"email": "Ana@Example.org", "name": "Ana", "password": PASSWORD, "capacity": 3}
    resp = await client.post("/api/v1/agents", json=body, headers=admin)
    assert resp.status == 201, await resp.text()
    agent = await resp.json()
    assert (agent["id"], agent["email"], agent["role"], agent["capacity"]) == (
        "ana",
        "ana@example.org",
        "agent",
        3,
    )
    assert "password" not in str(agent)
    login = await client.post(
        "/api/v1/auth/login", json={"email": "ana@example.org", "password": PASSWORD}
    )
    assert login.status == 200
    again = await client.post("/api/v1/agents", json=body, headers=admin)
    assert again.status == 409
    assert (await again.json())["error"]["code"] == "email_taken"
    short = await client.post("/api/v1/agents", json=body | {"password": "short"}, headers=admin)
    assert short.status == 400


async def test_only_admins_add_agents_and_change_roles(client: Client) -> None:
    alice = bearer(client, "alice")
    body = {"email": "eve@example.org", "password": PASSWORD}
    assert (await client.post("/api/v1/agents", json=body, headers=alice)).status == 403
    assert (await client.post("/api/v1/agents", json=body)).status == 401
    resp = await client.put("/api/v1/agents/alice/role", json={"role": "admin"}, headers=alice)
    assert resp.status == 403


async def test_role_change_ends_sessions_and_admins_keep_their_own(client: Client) -> None:
    admin = bearer(client, "root", role="admin")
    await client.post(
        "/api/v1/agents", json={"email": "bo@example.org", "password": PASSWORD}, headers=admin
    )
    login = await client.post(
        "/api/v1/auth/login", json={"email": "bo@example.org", "password": PASSWORD}
    )
    refresh = (await login.json())["refresh_token"]
    resp = await client.put("/api/v1/agents/bo/role", json={"role": "admin"}, headers=admin)
    assert resp.status == 200 and (await resp.json())["role"] == "admin"
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert again.status == 401  # the old session (with the old role) is over
    resp = await client.put("/api/v1/agents/root/role", json={"role": "agent"}, headers=admin)
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "self_demote"
    missing = await client.put("/api/v1/agents/nobody/role", json={"role": "agent"}, headers=admin)
    assert missing.status == 404


async def test_rules_versions_and_rollback(client: Client) -> None:
    admin = bearer(client, "root", role="admin")
    rules: dict[str, Any] = (
        await (await client.get("/api/v1/moderation/rules", headers=admin)).json()
    )["rules"]
    first = await client.put("/api/v1/moderation/rules", json=rules, headers=admin)
    first_version = (await first.json())["version"]
    rules["web"][0]["max_chars"] = 1234
    second = await client.put("/api/v1/moderation/rules", json=rules, headers=admin)
    second_version = (await second.json())["version"]
    assert first_version != second_version
    listed = await (await client.get("/api/v1/moderation/rules/versions", headers=admin)).json()
    assert [(v["version"], v["in_force"], v["created_by"]) for v in listed["items"]] == [
        (second_version, True, "root"),
        (first_version, False, "root"),
    ]
    resp = await client.post(
        "/api/v1/moderation/rules/rollback", json={"version": first_version}, headers=admin
    )
    assert resp.status == 200
    now = await (await client.get("/api/v1/moderation/rules", headers=admin)).json()
    assert now["version"] == first_version
    assert now["rules"]["web"][0]["max_chars"] != 1234
    missing = await client.post(
        "/api/v1/moderation/rules/rollback", json={"version": "nope"}, headers=admin
    )
    assert missing.status == 404
    alice = bearer(client, "alice")
    assert (await client.get("/api/v1/moderation/rules/versions", headers=alice)).status == 403
