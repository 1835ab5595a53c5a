"""JWT issuing and verification for the API, and signed visitor tokens for web chat.

The verifier pins the algorithm the keys were configured for, so ``alg: none`` and
algorithm-confusion tokens fail before any claim is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import jwt

from hub.config import AuthConfig, jwt_secret
from hub.domain import utcnow
from hub.errors import Unauthorized

Role = Literal["admin", "agent"]
ROLES: tuple[Role, ...] = ("admin", "agent")
VISITOR_AUDIENCE = "chorus-visitor"
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the API."""

    subject: str
    role: Role
    claims: dict[str, Any]


class TokenService:
    def __init__(self, config: AuthConfig) -> None:
        self.config = config
        self.algorithm = config.algorithm
        self._signing_key: Any
        self._verify_key: Any
        if config.algorithm == "HS256":
            secret = jwt_secret(config)
            self._signing_key = self._verify_key = secret
        else:
            if config.private_key_file is None and config.public_key_file is None:
                raise ValueError(
                    f"auth.algorithm {config.algorithm} needs auth.private_key_file "
                    "or auth.public_key_file"
                )
            self._signing_key = (
                config.private_key_file.read_bytes() if config.private_key_file else None
            )
            self._verify_key = (
                config.public_key_file.read_bytes()
                if config.public_key_file
                else _public_from_private(self._signing_key)
            )
        # Visitor tokens are always HMAC-signed with their own audience: they must never
        # pass as API tokens, and customers' browsers hold them.
        self._visitor_key = jwt_secret(config) + ":visitor"

    def issue(self, subject: str, role: Role, ttl_seconds: int | None = None, **extra: Any) -> str:
        if self._signing_key is None:
            raise ValueError("no private key configured: this hub can verify tokens only")
        now = utcnow()
        ttl = ttl_seconds if ttl_seconds is not None else self.config.access_ttl_seconds
        claims = {
            **extra,
            "iss": self.config.issuer,
            "aud": self.config.audience,
            "sub": subject,
            "role": role,
            "iat": now,
            "exp": now + timedelta(seconds=ttl),
        }
        return jwt.encode(claims, self._signing_key, algorithm=self.algorithm)

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._verify_key,
                algorithms=[self.algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired", code="token_expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from exc
        role = claims.get("role")
        if role not in ROLES:
            raise Unauthorized("token has no valid role", code="invalid_token")
        return Principal(subject=str(claims["sub"]), role=role, claims=claims)

    def issue_visitor(self, visitor_id: str) -> str:
        now = utcnow()
        claims = {
            "iss": self.config.issuer,
            "aud": VISITOR_AUDIENCE,
            "sub": visitor_id,
            "iat": now,
            "exp": now + timedelta(days=self.config.visitor_token_ttl_days),
        }
        return jwt.encode(claims, self._visitor_key, algorithm="HS256")

    def verify_visitor(self, token: str) -> str:
        """The visitor id inside a token this hub issued, or ``Unauthorized``."""
        try:
            claims = jwt.decode(
                token,
                self._visitor_key,
                algorithms=["HS256"],
                audience=VISITOR_AUDIENCE,
                issuer=self.config.issuer,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("visitor token is not valid", code="invalid_visitor_token") from exc
        return str(claims["sub"])


def _public_from_private(private_pem: bytes | None) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if private_pem is None:
        raise ValueError("no key configured")
    return load_pem_private_key(private_pem, password=None).public_key()
