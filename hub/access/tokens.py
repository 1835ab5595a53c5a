"""JWT issuing and verification for the API, and signed visitor tokens for web chat.

The verifier pins the algorithm the keys were configured for, so ``alg: none`` and
algorithm-confusion tokens fail before any claim is looked at. ``AccessCheck`` then asks
whether a verified token still speaks for an enabled agent and a live session.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import jwt
from aiohttp import web

from hub.config.model import AuthConfig, VerificationKey, jwt_secret
from hub.domain import utcnow
from hub.errors import Unauthorized

Role = Literal["admin", "agent", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "agent", "viewer")
VISITOR_AUDIENCE = "chorus-visitor"
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the API."""

    subject: str
    role: Role
    claims: dict[str, Any]
    # Service tokens carry scopes; people's tokens carry none and are limited by role only.
    scopes: frozenset[str] | None = None

    @property
    def allowed_channels(self) -> frozenset[str] | None:
        """Channels this caller may see, when its token restricts them (None: all)."""
        value = self.claims.get("allowed_channels")
        if not isinstance(value, list):
            return None
        return frozenset(str(item) for item in value)


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
        # kid -> (algorithm, key): the signing key's own, then older keys still accepted.
        self._verifiers: dict[str, tuple[str, Any]] = {
            config.key_id: (self.algorithm, self._verify_key)
        }
        for extra in config.verification_keys:
            self._verifiers[extra.kid] = _verifier(extra)
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
        return jwt.encode(
            claims,
            self._signing_key,
            algorithm=self.algorithm,
            headers={"kid": self.config.key_id},
        )

    def _key_for(self, token: str) -> tuple[str, Any]:
        """The pinned algorithm and key named by the token's ``kid``; none means the main key."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}", code="invalid_token") from exc
        kid = header.get("kid", self.config.key_id)
        found = self._verifiers.get(kid) if isinstance(kid, str) else None
        if found is None:
            raise Unauthorized("token signed with an unknown key", code="invalid_token")
        return found

    def verify(self, token: str) -> Principal:
        algorithm, key = self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
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


def _verifier(key: VerificationKey) -> tuple[str, Any]:
    if key.algorithm == "HS256":
        secret = key.secret.get_secret_value()
        if len(secret) < 32:
            raise ValueError(f"auth.verification_keys {key.kid}: HS256 secret under 32 characters")
        return key.algorithm, secret
    if key.public_key_file is None:
        raise ValueError(f"auth.verification_keys {key.kid}: {key.algorithm} needs public_key_file")
    return key.algorithm, key.public_key_file.read_bytes()


def _public_from_private(private_pem: bytes | None) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if private_pem is None:
        raise ValueError("no key configured")
    return load_pem_private_key(private_pem, password=None).public_key()


AgentState = Callable[[str], Awaitable[Literal["active", "disabled", "unknown"]]]
SessionLive = Callable[[str], Awaitable[bool]]
_REFUSALS = {
    "unknown": ("this token names no agent", "unknown_agent"),
    "disabled": ("this agent is disabled", "agent_disabled"),
    "revoked": ("this session has ended; log in again", "session_revoked"),
}


class AccessCheck:
    """Whether a verified access token still speaks for an enabled agent and a live session.

    People's tokens name an agent (``sub``) and, when issued at login, its session
    (``sid``, the refresh-token family). Answers are cached per (agent, session) for
    ``ttl_seconds``: a token of a session revoked or an agent disabled on *another*
    instance keeps working at most that long; this instance forgets its cache at once
    when it revokes or disables. Service tokens are looked up on every request already.
    """

    def __init__(
        self,
        agent_state: AgentState,
        session_live: SessionLive,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
        max_entries: int = 100_000,
    ) -> None:
        self.agent_state = agent_state
        self.session_live = session_live
        self.ttl = ttl_seconds
        self.clock = clock
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[str, str], tuple[str | None, float]] = OrderedDict()
        self._looking_up: dict[tuple[str, str], asyncio.Future[str | None]] = {}
        self._generation = 0

    async def refusal(self, principal: Principal) -> str | None:
        """None while the token is good, else why not (``unknown``, ``disabled``, ``revoked``,
        ``expired``)."""
        if principal.scopes is not None:
            return None
        now = self.clock()
        exp = principal.claims.get("exp")
        if isinstance(exp, int | float) and exp <= now:
            return "expired"
        sid = principal.claims.get("sid")
        key = (principal.subject, sid if isinstance(sid, str) else "")
        cached = self._cache.pop(key, None)
        if cached is not None and 0 <= now - cached[1] < self.ttl:
            self._cache[key] = cached
            return cached[0]
        # Concurrent requests of one caller share one look-up: a burst after the answer
        # expired would otherwise ask the database once per request.
        pending = self._looking_up.get(key) or self._start_look_up(key, now)
        return await asyncio.shield(pending)

    def _start_look_up(self, key: tuple[str, str], now: float) -> asyncio.Future[str | None]:
        generation = self._generation
        task = asyncio.ensure_future(self._look_up(*key))
        self._looking_up[key] = task

        def done(task: asyncio.Future[str | None]) -> None:
            if self._looking_up.get(key) is task:
                del self._looking_up[key]
            if task.cancelled() or task.exception() is not None:
                return
            if generation == self._generation:  # not asked before a forget()
                self._cache[key] = (task.result(), now)
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)

        task.add_done_callback(done)
        return task

    async def still_valid(self, principal: Principal) -> bool:
        """The one question other code asks: may this caller still act (or keep a socket)?"""
        return await self.refusal(principal) is None

    async def require(self, principal: Principal) -> None:
        reason = await self.refusal(principal)
        if reason == "expired":
            raise Unauthorized("token expired", code="token_expired")
        if reason is not None:
            message, code = _REFUSALS[reason]
            raise Unauthorized(message, code=code)

    def forget(self) -> None:
        """Drop every cached answer: called after this process revokes or disables."""
        self._cache.clear()
        self._looking_up.clear()
        self._generation += 1

    async def _look_up(self, agent_id: str, sid: str) -> str | None:
        state = await self.agent_state(agent_id)
        if state != "active":
            return state
        if sid and not await self.session_live(sid):
            return "revoked"
        return None


ACCESS = web.AppKey("access_check", AccessCheck)


async def token_still_valid(app: web.Application, principal: Principal) -> bool:
    """Whether a verified token (a live socket's, say) may still act: not expired, its
    agent enabled, its session live; at most ``sessions.revocation_check_seconds`` stale."""
    return await app[ACCESS].still_valid(principal)
