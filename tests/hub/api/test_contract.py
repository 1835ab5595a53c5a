"""The OpenAPI document covers the route table, and the served API honours it.

The schemathesis run fuzzes every operation of the served document with an admin token,
with valid and invalid inputs, and applies its checks: no 5xx, documented status codes
and content types, responses matching their schemas, invalid input refused, valid input
accepted. It runs in a worker thread (schemathesis's client is synchronous) against the
hub served on loopback by this test's event loop.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from schemathesis.config import SchemathesisConfig

from hub.api.routes import API_ROUTES
from tests.helpers.api import Client
from tests.helpers.hub import bearer

EXAMPLES_PER_OPERATION = 15
# Every check, positive_data_acceptance included: whatever the document allows, the
# server accepts (cursors have a stated format, cross-field rules are in the schema).
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
    st_checks.negative_data_rejection,
    st_checks.missing_required_header,
    st_checks.unsupported_method,
    st_checks.positive_data_acceptance,
]


async def test_document_covers_every_endpoint(client: Client) -> None:
    resp = await client.get("/api/v1/openapi.json", headers=bearer(client, role="viewer"))
    assert resp.status == 200
    document = await resp.json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    table = set(client.app[API_ROUTES].endpoints)
    assert table - documented == set(), "endpoints missing from the OpenAPI document"
    assert documented - table == set(), "documented operations that do not exist"
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert op["responses"]["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }, (method, path)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def _router_operations(client: Client) -> set[tuple[str, str]]:
    """Every (method, path) the application's own router serves under /api/."""
    return {
        (route.method, route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/")
    }


async def _document(client: Client) -> dict[str, Any]:
    resp = await client.get("/api/v1/openapi.json", headers=bearer(client, role="viewer"))
    assert resp.status == 200
    document: dict[str, Any] = await resp.json()
    return document


async def test_document_matches_the_real_router(client: Client) -> None:
    """Routes added straight on the router (not through the table) would show up here."""
    document = await _document(client)
    documented = {
        (method.upper(), path) for path, ops in document["paths"].items() for method in ops
    }
    served = _router_operations(client)
    assert served - documented == set(), "routes the OpenAPI document does not describe"
    assert documented - served == set(), "documented operations the router does not serve"
    # The session and config endpoints are in the table like every other one.
    assert {("POST", f"/api/v1/auth/{name}") for name in ("login", "refresh", "logout")} <= served
    assert ("GET", "/api/v1/config") in served


async def test_public_operations_need_no_token(client: Client) -> None:
    document = await _document(client)
    public = {
        (method.upper(), path)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if op.get("security") == []
    }
    # No bearer JWT: the session endpoints issue one; an API inbox checks its own token;
    # the widget's settings are read by every site that embeds it.
    assert public == {("POST", f"/api/v1/auth/{n}") for n in ("login", "refresh", "logout")} | {
        ("POST", "/api/v1/api-channels/{id}/messages"),
        ("GET", "/api/v1/widget/config"),
        ("GET", "/api/v1/widget/availability"),
    }
    resp = await client.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "p"})
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_credentials"
    resp = await client.post("/api/v1/api-channels/x/messages", json={"message_id": "1"})
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_token"


def _served_methods(document: dict[str, Any], url: str) -> set[str]:
    """The methods some documented path serves for ``url`` (``/kb/search`` is also a
    ``/kb/{id}``, so it has that path's methods too)."""
    methods: set[str] = set()
    for path, ops in document["paths"].items():
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)), url):
            methods |= {method.upper() for method in ops}
    return methods


async def test_undeclared_methods_answer_405_with_allow(client: Client) -> None:
    """RFC 9110 §15.5.6: a 405 carries ``Allow`` with the methods the resource has."""
    document = await _document(client)
    wrong: list[str] = []
    for path in document["paths"]:
        url = re.sub(r"\{[^}]+\}", "x", path)
        served = _served_methods(document, url)
        undeclared = sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - served)
        for method in ["TRACE", *undeclared[:1]]:
            resp = await client.request(method, url, headers=bearer(client, role="admin"))
            allow = {m.strip() for m in resp.headers.get("Allow", "").split(",") if m.strip()}
            body = await resp.json()
            if resp.status != 405 or allow != served:
                wrong.append(f"{method} {path}: {resp.status}, Allow {sorted(allow)}")
            elif body["error"]["code"] != "method_not_allowed":
                wrong.append(f"{method} {path}: code {body['error']['code']}")
    assert wrong == []


async def test_document_needs_a_token(client: Client) -> None:
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 401


def _fuzz_operation(
    operation: Any, base_url: str, headers: dict[str, str], failures: list[str]
) -> int:
    """Run one operation's bounded examples; record failures; return how many calls."""
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )
    calls = 0

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal calls
        calls += 1
        try:
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # collect all, then report
            failures.append(f"{operation.label}: {exc}"[:2000])

    run()
    return calls


def _fuzz(document: dict[str, Any], base_url: str, headers: dict[str, str]) -> dict[str, Any]:
    # A change cursor of the documented form that the database cannot resume from is
    # answered 410 (resync from the snapshot), as an expired one is.
    config = SchemathesisConfig.from_dict(
        {
            "operations": [
                {
                    "include-path": "/api/v1/sync/changes",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "401", "403", "404", "409", "410"]
                        }
                    },
                }
            ]
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    # The token is sent by us on every call; negative cases must not "remove" it.
    schema.config.generation.update(with_security_parameters=False)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    calls = sum(_fuzz_operation(op, base_url, headers, failures) for op in operations)
    return {"operations": len(operations), "calls": calls, "failures": failures}


async def test_schemathesis_finds_nothing(client: Client) -> None:
    headers = bearer(client, sub="fuzzer", role="admin")
    document = await (await client.get("/api/v1/openapi.json", headers=headers)).json()
    base_url = str(client.make_url("")).rstrip("/")
    started = time.perf_counter()
    outcome = await asyncio.to_thread(_fuzz, document, base_url, headers)
    seconds = time.perf_counter() - started
    print(
        f"schemathesis: {outcome['operations']} operations, {outcome['calls']} calls, {seconds:.1f}s"
    )
    assert outcome["failures"] == [], "\n\n".join(outcome["failures"])
