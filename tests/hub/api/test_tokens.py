"""Token attacks, key rotation by kid, service tokens, and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.config.model import ChorusConfig, VerificationKey
from hub.state import TOKENS
from tests.helpers.api import Client
from tests.helpers.hub import bearer, ensure_agent

SECRET = "test-secret-" + "x" * 32
OLD_SECRET = "old-secret-" + "y" * 32


@pytest.fixture(autouse=True)
def _agents(config: ChorusConfig) -> None:
    """The subjects these tokens name exist: the API refuses tokens naming nobody."""
    for sub in ("alice", "mallory", "a"):
        ensure_agent(config, sub)


def _claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": "chorus",
        "aud": "chorus-api",
        "sub": "mallory",
        "role": "admin",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


async def _status(client: Client, token: str) -> tuple[int, str]:
    resp = await client.get("/api/v1/agents", headers={"Authorization": f"Bearer {token}"})
    body = await resp.json()
    return resp.status, body.get("error", {}).get("code", "")


async def test_issued_tokens_carry_the_key_id(client: Client) -> None:
    token = client.app[TOKENS].issue("alice", "agent")
    assert jwt.get_unverified_header(token)["kid"] == "main"
    assert await _status(client, token) == (200, "")


def _in_five_minutes() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=5)


# Each token is built when its test runs (the fixture below), not at collection: tokens
# with a five-minute life built at collection expire while a long run is still going.
ATTACKS: dict[str, Callable[[], str]] = {
    "unknown-kid": lambda: jwt.encode(_claims(), SECRET, "HS256", headers={"kid": "nobody"}),
    "nbf-future": lambda: jwt.encode(_claims(nbf=_in_five_minutes()), SECRET, "HS256"),
    "iat-future": lambda: jwt.encode(_claims(iat=_in_five_minutes()), SECRET, "HS256"),
    "no-exp": lambda: jwt.encode(_claims(exp=None), SECRET, "HS256"),
    "no-iss": lambda: jwt.encode(_claims(iss=None), SECRET, "HS256"),
    "no-aud": lambda: jwt.encode(_claims(aud=None), SECRET, "HS256"),
}


@pytest.fixture(params=sorted(ATTACKS))
def token(request: pytest.FixtureRequest) -> str:
    return ATTACKS[request.param]()


async def test_attacks_are_refused(client: Client, token: str) -> None:
    assert await _status(client, token) == (401, "invalid_token")


async def test_old_key_still_verifies_during_rotation(
    make_client: object, config: ChorusConfig
) -> None:
    config.auth.key_id = "k2"
    config.auth.verification_keys = [VerificationKey(kid="k1", secret=OLD_SECRET)]  # type: ignore[arg-type]
    client = await make_client(config)  # type: ignore[operator]
    old = jwt.encode(_claims(), OLD_SECRET, "HS256", headers={"kid": "k1"})
    assert await _status(client, old) == (200, "")
    # The old key is pinned to its own kid: naming the new kid does not help.
    forged = jwt.encode(_claims(), OLD_SECRET, "HS256", headers={"kid": "k2"})
    assert await _status(client, forged) == (401, "invalid_token")
    assert jwt.get_unverified_header(client.app[TOKENS].issue("a", "admin"))["kid"] == "k2"


async def test_hs256_signed_with_the_rs256_public_key(
    make_client: object, config: ChorusConfig, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = tmp_path / "key.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    config.auth.algorithm = "RS256"
    config.auth.private_key_file = private
    client = await make_client(config)  # type: ignore[operator]
    assert await _status(client, client.app[TOKENS].issue("a", "admin")) == (200, "")
    # PyJWT itself refuses a PEM as an HMAC secret; sign the confusion token by hand.
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "main"}).encode())
    claims = _claims()
    claims["iat"] = int(datetime.now(UTC).timestamp())
    claims["exp"] = claims["iat"] + 300  # type: ignore[operator]
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert await _status(client, f"{header}.{payload}.{b64(signature)}") == (401, "invalid_token")


async def test_service_token_lifecycle(client: Client, db: object) -> None:
    admin = bearer(client, sub="root", role="admin")
    resp = await client.post(
        "/api/v1/service-tokens",
        json={"name": "crm", "role": "agent", "scopes": ["conversations:read"]},
        headers=admin,
    )
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    secret = created["token"]
    assert secret.startswith("chs_")
    stored = await db["service_tokens"].find_one({"_id": created["id"]})  # type: ignore[index]
    assert secret not in str(stored) and len(stored["hash"]) == 64
    service = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/conversations", headers=service)).status == 200
    refused = await client.get("/api/v1/messages", headers=service)
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "missing_scope"
    listed = await (await client.get("/api/v1/service-tokens", headers=admin)).json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "token" not in listed["items"][0] and "hash" not in listed["items"][0]
    deleted = await client.delete(f"/api/v1/service-tokens/{created['id']}", headers=admin)
    assert deleted.status == 204
    assert (await client.get("/api/v1/conversations", headers=service)).status == 401
    audit = await (await client.get("/api/v1/audit", headers=admin)).json()
    actions = [(e["action"], e["who"]) for e in audit["items"]]
    assert actions == [
        ("DELETE /api/v1/service-tokens/{id}", "root"),
        ("POST /api/v1/service-tokens", "root"),
    ]
    assert audit["items"][0]["target"] == {"id": created["id"]}
    assert audit["items"][0]["request_id"]


async def test_unknown_scope_is_refused(client: Client) -> None:
    resp = await client.post(
        "/api/v1/service-tokens",
        json={"name": "x", "scopes": ["everything:write"]},
        headers=bearer(client, role="admin"),
    )
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "unknown_scope"
