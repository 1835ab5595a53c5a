"""The OpenAPI document covers the route table, and the served API honours it.

The schemathesis run fuzzes every operation of the served document with an admin token,
with valid and invalid inputs, and applies its checks: no 5xx, documented status codes
and content types, responses matching their schemas, invalid input refused, valid input
accepted. It runs in a worker thread (schemathesis's client is synchronous) against the
hub served on loopback by this test's event loop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis import checks as st_checks

from hub.api.routes import API_ROUTES
from tests.conftest import bearer
from tests.hub.api.conftest import Client

EXAMPLES_PER_OPERATION = 15
# Every check but positive_data_acceptance: some schema-valid requests are refused by
# rules a JSON Schema cannot state (an opaque cursor that does not decode, a PATCH with
# nothing in it, a rejection without a reason, content the moderation rules refuse);
# those answer 400 with a stable code, which the other checks verify.
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
    st_checks.negative_data_rejection,
    st_checks.missing_required_header,
    st_checks.unsupported_method,
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
    schema = schemathesis.openapi.from_dict(document)
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
