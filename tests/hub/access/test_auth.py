"""Token checks at the API door: every bad token is a 401 with a JSON error."""

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from hub.state import CONFIG, TOKENS
from tests.helpers.hub import bearer, ensure_agent

SECRET = "test-secret-" + "x" * 32


def _token(**overrides: object) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": "chorus",
        "aud": "chorus-api",
        "sub": "mallory",
        "role": "admin",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_valid_token_is_accepted(client) -> None:
    ensure_agent(client.app[CONFIG], "mallory", "admin")
    resp = await client.get(
        "/api/v1/conversations", headers={"Authorization": f"Bearer {_token()}"}
    )
    assert resp.status == 200


# Built when each test runs (the fixture below), not at collection, so none of them can
# expire, or become valid, while a long run is still going.
BAD_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "wrong-aud": (lambda: _token(aud="someone-else"), "invalid_token"),
    "wrong-iss": (lambda: _token(iss="evil"), "invalid_token"),
    "expired": (
        lambda: _token(exp=datetime.now(UTC) - timedelta(seconds=5)),
        "token_expired",
    ),
    "no-sub": (lambda: _token(sub=None), "invalid_token"),
    "no-iat": (lambda: _token(iat=None), "invalid_token"),
    "bad-role": (lambda: _token(role="root"), "invalid_token"),
    "wrong-key": (
        lambda: jwt.encode(
            {"sub": "x"}, "another-secret-that-is-long-enough-1234", algorithm="HS256"
        ),
        "invalid_token",
    ),
    "garbage": (lambda: "not-a-jwt", "invalid_token"),
}


@pytest.fixture(params=sorted(BAD_TOKENS))
def bad_token(request: pytest.FixtureRequest) -> tuple[str, str]:
    build, code = BAD_TOKENS[request.param]
    return build(), code


async def test_bad_tokens_are_refused(client, bad_token: tuple[str, str]) -> None:
    token, code = bad_token
    resp = await client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 401
    body = await resp.json()
    assert body["error"]["code"] == code


async def test_alg_none_is_refused(client) -> None:
    now = int(datetime.now(UTC).timestamp())
    payload = {
        "iss": "chorus",
        "aud": "chorus-api",
        "sub": "x",
        "role": "admin",
        "iat": now,
        "exp": now + 60,
    }
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."
    resp = await client.get("/api/v1/conversations", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 401


async def test_tampered_payload_is_refused(client) -> None:
    header, _, signature = _token(role="agent").split(".")
    now = int(datetime.now(UTC).timestamp())
    forged = _b64(
        {
            "iss": "chorus",
            "aud": "chorus-api",
            "sub": "x",
            "role": "admin",
            "iat": now,
            "exp": now + 60,
        }
    )
    resp = await client.get(
        "/api/v1/conversations", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"}
    )
    assert resp.status == 401


async def test_missing_token(client) -> None:
    resp = await client.get("/api/v1/messages")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "missing_token"


async def test_agent_cannot_use_admin_endpoint(client) -> None:
    resp = await client.get("/api/v1/contacts/abc", headers=bearer(client, role="agent"))
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "forbidden"
    resp = await client.get("/api/v1/contacts/abc", headers=bearer(client, role="admin"))
    assert resp.status == 404


async def test_visitor_token_is_not_an_api_token(client) -> None:
    visitor = client.app[TOKENS].issue_visitor("v1")
    resp = await client.get("/api/v1/messages", headers={"Authorization": f"Bearer {visitor}"})
    assert resp.status == 401


def test_cli_token_round_trip(config) -> None:
    from click.testing import CliRunner

    from hub.access.tokens import TokenService
    from hub.cli.main import main

    env = {"CHORUS_AUTH__JWT_SECRET": SECRET}
    result = CliRunner().invoke(
        main, ["token", "--sub", "bob", "--role", "admin", "--ttl", "60"], env=env
    )
    assert result.exit_code == 0, result.output
    principal = TokenService(config.auth).verify(result.output.strip())
    assert (principal.subject, principal.role) == ("bob", "admin")
