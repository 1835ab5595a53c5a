"""The OpenAPI document states the rules the server enforces, and the server still
enforces them: each value the schema now excludes is refused with a stable code, and
values the schema allows (an integral float where it says integer) are accepted."""

from __future__ import annotations

from typing import Any

from tests.helpers.api import Client
from tests.helpers.hub import bearer


async def _document(client: Client) -> dict[str, Any]:
    resp = await client.get("/api/v1/openapi.json", headers=bearer(client, role="admin"))
    document: dict[str, Any] = await resp.json()
    return document


def _body(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op = document["paths"][f"/api/v1{path}"][method]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


async def test_the_document_states_the_rules(client: Client) -> None:
    document = await _document(client)
    labels = _body(document, "post", "/conversations/{id}/labels")["properties"]["add"]
    assert labels["items"]["minLength"] == 1 and "pattern" in labels["items"]
    questions = _body(document, "post", "/kb")["properties"]["questions"]
    assert questions["items"]["minLength"] == 1
    reject = document["paths"]["/api/v1/moderation/{id}/reject"]["post"]["requestBody"]
    assert reject["required"] is True
    assert _body(document, "post", "/moderation/{id}/reject")["required"] == ["reason"]
    scopes = _body(document, "post", "/service-tokens")["properties"]["scopes"]["items"]
    assert "conversations:read" in scopes["enum"] and "" not in scopes["enum"]
    patch = _body(document, "patch", "/conversations/{id}")
    assert patch["anyOf"] == [{"required": [k]} for k in ("status", "assignee", "labels")]
    assert len(_body(document, "post", "/sync/push")["anyOf"]) == 2
    bulk = _body(document, "post", "/moderation/bulk")
    assert bulk["then"]["required"] == ["reason"]
    assert "pattern" in _body(document, "post", "/comments")["properties"]["text"]
    changes = document["paths"]["/api/v1/sync/changes"]["get"]["parameters"]
    assert {p["name"]: p["schema"].get("maximum") for p in changes}["limit"] == 10_000


async def test_values_the_schema_excludes_are_still_refused(client: Client) -> None:
    admin = bearer(client, role="admin")
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/conversations/x/labels", {"add": [""]}, "invalid_request"),
        ("POST", "/conversations/x/labels", {"add": [" \t"]}, "invalid_request"),
        ("PATCH", "/conversations/x", {"labels": ["a\u0007"]}, "invalid_request"),
        ("POST", "/kb", {"id": "e1", "questions": [""], "answer": "a"}, "invalid_request"),
        ("POST", "/comments", {"text": ""}, "empty_comment"),
        ("POST", "/comments", {"text": "hi\u0000"}, "control_characters"),
        ("POST", "/comments", {"text": "\u200b"}, "empty"),
        ("POST", "/moderation/x/reject", {}, "reason_required"),
        ("POST", "/moderation/x/reject", {"reason": " "}, "reason_required"),
        ("POST", "/moderation/bulk", {"action": "approve", "ids": [""]}, "invalid_request"),
        ("POST", "/moderation/bulk", {"action": "reject", "ids": ["x"]}, "reason_required"),
        ("POST", "/service-tokens", {"name": "n", "scopes": [""]}, "unknown_scope"),
        ("POST", "/sync/push", {}, "empty_push"),
        ("PATCH", "/conversations/x", {}, "empty_patch"),
        ("PUT", "/agents/ann/capacity", {"capacity": 3.5}, "invalid_request"),
    ]
    wrong = []
    for method, path, body, code in cases:
        resp = await client.request(method, f"/api/v1{path}", json=body, headers=admin)
        got = (resp.status, (await resp.json())["error"]["code"])
        if got != (400, code):
            wrong.append(f"{method} {path} {body}: {got}")
    assert wrong == []


async def test_integral_floats_count_as_integers(client: Client) -> None:
    admin = bearer(client, role="admin")
    online = {"online": True}
    resp = await client.put(
        "/api/v1/agents/ann/status", json=online, headers=bearer(client, sub="ann")
    )
    assert resp.status == 200
    resp = await client.put("/api/v1/agents/ann/capacity", json={"capacity": 3.0}, headers=admin)
    assert resp.status == 200 and (await resp.json())["capacity"] == 3


async def test_a_limit_above_the_configured_ceiling_is_served_at_the_ceiling(
    client: Client,
) -> None:
    resp = await client.get(
        "/api/v1/sync/snapshot", params={"limit": "10000"}, headers=bearer(client)
    )
    assert resp.status == 200
    resp = await client.get(
        "/api/v1/sync/snapshot", params={"limit": "10001"}, headers=bearer(client)
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_request"
