"""Every endpoint against every role, with real requests.

``EXPECTED`` restates the route table's roles by hand: adding an endpoint without adding
it here fails ``test_matrix_covers_every_endpoint``, so who may call a new endpoint is
always a reviewed decision. ``P`` marks a public endpoint (no token, any caller).
"""

from __future__ import annotations

import re

import pytest

from hub.api.routes import API_ROUTES
from tests.helpers.api import Client
from tests.helpers.hub import bearer

A, G, V, P = "admin", "agent", "viewer", "public"
# Public in the table, but the channel checks its own credential: no JWT of any role passes.
INBOX = "inbox token"
EXPECTED: dict[str, set[str]] = {
    "POST /auth/login": {P},
    "POST /auth/refresh": {P},
    "POST /auth/logout": {P},
    "GET /widget/config": {P},
    "GET /widget/availability": {P},
    "POST /api-channels/{id}/messages": {INBOX},
    "GET /conversations": {A, G, V},
    "GET /conversations/{id}": {A, G, V},
    "PATCH /conversations/{id}": {A, G},
    "GET /conversations/{id}/messages": {A, G, V},
    "POST /conversations/{id}/messages": {A, G},
    "POST /conversations/{id}/attachments": {A, G},
    "GET /messages": {A, G, V},
    "GET /messages/{id}": {A, G, V},
    "GET /contacts": {A},
    "GET /contacts/{id}": {A},
    "POST /contacts/{id}/merge": {A},
    "GET /stats": {A},
    "POST /agents": {A},
    "PUT /agents/{id}/role": {A},
    "GET /moderation/rules/versions": {A},
    "POST /moderation/rules/rollback": {A},
    "GET /reports/conversations": {A, G, V},
    "GET /reports/response-times": {A, G, V},
    "GET /reports/bot": {A},
    "GET /reports/ratings": {A, G, V},
    "GET /reports/agents": {A, G, V},
    "GET /reports/moderation": {A},
    "GET /agents": {A, G, V},
    "PATCH /agents/{id}": {A},
    "PUT /agents/{id}/status": {A, G},
    "PUT /agents/{id}/capacity": {A},
    "POST /agents/{id}/disable": {A},
    "POST /agents/{id}/enable": {A},
    "GET /sync/changes": {A, G, V},
    "GET /sync/snapshot": {A, G, V},
    "GET /sync/digest": {A, G, V},
    "POST /sync/push": {A, G},
    "GET /kb": {A},
    "POST /kb": {A},
    "GET /kb/search": {A},
    "GET /kb/{id}": {A},
    "PUT /kb/{id}": {A},
    "DELETE /kb/{id}": {A},
    "POST /conversations/{id}/assign": {A, G},
    "POST /conversations/{id}/notes": {A, G},
    "POST /conversations/{id}/labels": {A, G},
    "GET /conversations/{id}/events": {A, G, V},
    "POST /conversations/{id}/read": {A, G, V},
    "GET /reads": {A, G, V},
    "GET /contacts/{id}/profile": {A, G, V},
    "PATCH /contacts/{id}": {A, G},
    "POST /conversations/{id}/canned_responses/{response_id}": {A, G},
    "GET /canned_responses": {A, G, V},
    "POST /canned_responses": {A, G},
    "DELETE /canned_responses/{id}": {A},
    "GET /stats/bot": {A, G, V},
    "POST /comments": {A, G},
    "GET /comments": {A, G, V},
    "GET /comments/{id}": {A, G, V},
    "GET /moderation/queue": {A, G, V},
    "POST /moderation/{id}/approve": {A, G},
    "POST /moderation/{id}/reject": {A, G},
    "POST /moderation/bulk": {A, G},
    "GET /moderation/rules": {A, G, V},
    "PUT /moderation/rules": {A},
    "POST /moderation/reload": {A},
    "GET /service-tokens": {A},
    "POST /service-tokens": {A},
    "DELETE /service-tokens/{id}": {A},
    "GET /audit": {A},
    "GET /config": {A},
    "GET /openapi.json": {A, G, V},
    "POST /api-channels": {A},
    "GET /api-channels": {A},
    "GET /contacts/{id}/export": {A},
    "POST /contacts/{id}/erase": {A},
    "GET /holds": {A},
    "POST /holds": {A},
    "POST /holds/{kind}/{id}/lift": {A},
    "GET /retention": {A},
    "POST /webhooks/endpoints": {A},
    "GET /webhooks/endpoints": {A},
    "PATCH /webhooks/endpoints/{id}": {A},
    "DELETE /webhooks/endpoints/{id}": {A},
    "GET /webhooks/dead-letters": {A},
    "POST /webhooks/dead-letters/{id}/replay": {A},
    "POST /webhooks/dead-letters/replay": {A},
}


def _table(client: Client) -> dict[str, set[str]]:
    routes = client.app[API_ROUTES]
    return {
        f"{e.method} {e.path.removeprefix('/api/v1')}": (
            ({INBOX} if "api-channels/{id}" in e.path else {P}) if e.public else set(e.roles)
        )
        for e in routes.endpoints.values()
    }


async def test_matrix_covers_every_endpoint(client: Client) -> None:
    table = _table(client)
    assert sorted(set(table) - set(EXPECTED)) == [], "endpoints without a matrix entry"
    assert sorted(set(EXPECTED) - set(table)) == [], "matrix entries without an endpoint"
    assert table == EXPECTED


@pytest.mark.parametrize("role", [None, A, G, V])
async def test_every_endpoint_answers_as_the_table_says(client: Client, role: str | None) -> None:
    """No token: 401 everywhere but the public endpoints. A role the table refuses: 403.
    Allowed (and public): anything else.

    Ids are the caller's own subject, so an agent setting "its own" status passes the
    handler's object check and answers 404 (no such agent), not 403."""
    wrong: list[str] = []
    for key, roles in EXPECTED.items():
        method, path = key.split(" ", 1)
        url = "/api/v1" + re.sub(r"\{[^}]+\}", "rbac", path)
        headers = bearer(client, sub="rbac", role=role) if role else {}
        resp = await client.request(method, url, headers=headers, json={})
        expected = 401 if role is None else (None if role in roles else 403)
        if P in roles:
            expected = None
        if INBOX in roles:
            expected = 401
        body = await resp.json()
        if expected is None:
            if resp.status in (401, 403) or resp.status >= 500:
                wrong.append(f"{key}: {resp.status} {body}")
        elif resp.status != expected:
            wrong.append(f"{key}: {resp.status}, expected {expected}")
        else:
            assert set(body["error"]) >= {"code", "message"}
    assert wrong == []
