"""What the OpenAPI document allows, the server serves: cursors of the stated form, any
stats range, state changes and moderation stages as the schemas describe them."""

from __future__ import annotations

import re
from typing import Any

from tests.helpers.api import Client
from tests.helpers.hub import bearer


async def _get(client: Client, path: str, **params: str) -> tuple[int, Any]:
    resp = await client.get(path, params=params, headers=bearer(client, role="admin"))
    return resp.status, await resp.json()


async def _visit(client: Client, text: str) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_str(text)
        await ws.receive_json(timeout=10)
        await ws.receive_json(timeout=10)


async def test_any_cursor_of_the_stated_form_is_a_position(client: Client, db: Any) -> None:
    await _visit(client, "hello")
    status, latest = await _get(client, "/api/v1/conversations", cursor="999999999999999.zz")
    assert status == 200 and len(latest["items"]) == 1  # after the end of time: everything
    for path, cursor in [
        ("/api/v1/conversations", "0.a"),  # before 1970: nothing older
        ("/api/v1/messages", "zzzz"),  # past every id
        ("/api/v1/comments", "0"),  # newest first: nothing before id "0"
        ("/api/v1/moderation/queue", "zzzz"),
        ("/api/v1/contacts", "zzzz"),
    ]:
        status, body = await _get(client, path, cursor=cursor)
        assert (status, body["items"], body["next_cursor"]) == (200, [], None), path
    status, body = await _get(client, "/api/v1/conversations", cursor="a.b")
    assert status == 400 and body["error"]["code"] == "invalid_request"


async def test_cursor_patterns_are_in_the_document(client: Client) -> None:
    _, document = await _get(client, "/api/v1/openapi.json")
    patterns = {}
    for path, ops in document["paths"].items():
        for param in ops.get("get", {}).get("parameters", []):
            if param["name"] in ("cursor", "since") and "pattern" in json_of(param["schema"]):
                patterns[(path, param["name"])] = json_of(param["schema"])["pattern"]
    assert re.search(patterns[("/api/v1/conversations", "cursor")], "1700000000000.abc")
    assert not re.search(patterns[("/api/v1/conversations", "cursor")], "abc")
    assert re.search(patterns[("/api/v1/messages", "cursor")], "65f0c0ffee")
    assert ("/api/v1/sync/changes", "since") in patterns
    assert ("/api/v1/sync/snapshot", "cursor") in patterns


def json_of(schema: dict[str, Any]) -> dict[str, Any]:
    """The string branch of an optional parameter's schema."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            return branch
    return schema


async def test_stats_answer_any_range(client: Client) -> None:
    status, body = await _get(
        client, "/api/v1/stats", since="2000-01-01T00:00:00Z", until="2026-01-01T00:00:00Z"
    )
    assert status == 200 and body["since"].startswith("2024-12-31")  # the last 366 days
    status, body = await _get(
        client, "/api/v1/stats", since="2026-02-01T00:00:00Z", until="2026-01-01T00:00:00Z"
    )
    assert status == 200 and body["since"] == body["until"]  # an empty range
    assert body["volumes"] == []


async def test_schemas_state_required_and_non_null_fields(client: Client) -> None:
    _, document = await _get(client, "/api/v1/openapi.json")
    schemas = document["components"]["schemas"]
    state = schemas["PushedState"]
    assert state["anyOf"] == [{"required": ["status"]}, {"required": ["assignee"]}]
    assert "anyOf" not in state["properties"]["status"]  # not null
    patch = schemas["ConversationPatch"]
    assert "anyOf" not in patch["properties"]["status"]
    stages = [s for s in schemas.values() if "stage" in s.get("properties", {})]
    assert len(stages) == 8 and all("stage" in s["required"] for s in stages)
