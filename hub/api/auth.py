"""Password login for the web inbox: login, refresh (rotating), logout.

These three endpoints are public (they are how a bearer token is obtained): the route
table lists them as ``public``, so they take no token and appear in the OpenAPI document
without a security requirement. Every failure to log in answers the same
401 ``invalid_credentials`` whether or not the account exists (or is disabled), after
the same argon2 work. Attempts are limited per account *and* address (a hard 429) and per
address; many addresses at one account only slow its attempts down, so a stranger cannot
lock an agent out. All in memory per process. Access tokens carry ``sid``, the session,
so logging out or a replayed refresh token ends them (``hub.access.tokens.AccessCheck``) and the
live sockets opened with them (``hub.web.live``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field

from hub.access.tokens import ACCESS, AccessCheck
from hub.api.routes import API_ROUTES
from hub.config.model import SessionsConfig
from hub.domain import Agent
from hub.errors import RateLimited, Unauthorized
from hub.http.json_api import read_json
from hub.http.rate_limit import AddressBuckets, client_address
from hub.state import CONFIG, HUB, LIVE, MONGO, TOKENS
from storage.sessions import IssuedRefresh, RefreshRejected, SessionStore

HASHER = PasswordHasher()
# Verified when the account is unknown, so a miss costs what a wrong password costs.
_DECOY_HASH = HASHER.hash("chorus-decoy-password")


@dataclass(slots=True)
class LoginGuard:
    """The session store and the attempt budgets: per account and address (refuses), per
    address (refuses), per account from anywhere (only slows)."""

    sessions: SessionStore
    by_account_address: AddressBuckets
    by_address: AddressBuckets
    by_account: AddressBuckets
    config: SessionsConfig


LOGIN = web.AppKey("login", LoginGuard)


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=256)


class SessionAgent(BaseModel):
    id: str
    name: str
    role: str


class Session(BaseModel):
    """What login and refresh answer: a short-lived access token and its refresh token."""

    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    agent: SessionAgent


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _DECOY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def _session_json(request: web.Request, agent: Agent, refresh: IssuedRefresh) -> web.Response:
    tokens = request.app[TOKENS]
    # The session id ends API access (hub.access.tokens) and live sockets (hub.web.live) with it.
    access = tokens.issue(agent.id, agent.role, name=agent.name, sid=refresh.family)
    return web.json_response(
        {
            "access_token": access,
            "refresh_token": refresh.token,
            "token_type": "Bearer",
            "expires_in": tokens.config.access_ttl_seconds,
            "agent": {"id": agent.id, "name": agent.name, "role": agent.role},
        }
    )


async def login(request: web.Request) -> web.StreamResponse:
    body = await read_json(request, LoginBody)
    guard = request.app[LOGIN]
    email = body.email.strip().lower()
    address = client_address(request, guard.config.trust_forwarded_for)
    wait = max(guard.by_address.take(address), guard.by_account_address.take(f"{email} {address}"))
    if wait > 0:
        raise RateLimited(f"too many login attempts; retry in {int(wait) + 1} s")
    if guard.by_account.take(email) > 0:
        # Many addresses are trying this account: slow every attempt, refuse none, so the
        # owner still gets in while guessing stays expensive.
        await asyncio.sleep(guard.config.login_slow_seconds)
    found = await request.app[HUB].agents.credentials(email)
    password_hash = found[1] if found and not found[0].disabled else None
    if not await asyncio.to_thread(password_matches, password_hash, body.password):
        raise Unauthorized("email or password is wrong", code="invalid_credentials")
    assert found is not None
    return await _session_json(request, found[0], await guard.sessions.start(found[0].id))


async def refresh(request: web.Request) -> web.StreamResponse:
    body = await read_json(request, RefreshBody)
    try:
        issued = await request.app[LOGIN].sessions.rotate(body.refresh_token)
    except RefreshRejected as exc:
        request.app[LIVE].end_session(exc.family)
        if exc.reused:
            request.app[ACCESS].forget()
            raise Unauthorized(
                "refresh token was already used; the session is revoked", code="refresh_reused"
            ) from exc
        raise Unauthorized("refresh token is not valid", code="invalid_refresh") from exc
    agent = await request.app[HUB].agents.get(issued.agent_id)
    if agent is None or agent.disabled:
        await request.app[LOGIN].sessions.revoke_family(issued.family)
        request.app[LIVE].end_session(issued.family)
        raise Unauthorized("refresh token is not valid", code="invalid_refresh")
    return await _session_json(request, agent, issued)


async def logout(request: web.Request) -> web.StreamResponse:
    body = await read_json(request, RefreshBody)
    ended = await request.app[LOGIN].sessions.revoke(body.refresh_token)
    request.app[ACCESS].forget()
    request.app[LIVE].end_session(ended)
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    """Add the public session endpoints to the route table, and the state they keep."""
    api, config = app[API_ROUTES], app[CONFIG].sessions
    sessions = SessionStore(app[MONGO], config.refresh_ttl_seconds)
    app[LOGIN] = LoginGuard(
        sessions,
        AddressBuckets(config.login_burst, config.login_refill_per_second, 100_000),
        # An office behind one address has many agents: its budget is several accounts'.
        AddressBuckets(4 * config.login_burst, 4 * config.login_refill_per_second, 100_000),
        # From everywhere at once an account may try ten people's budgets before slowing.
        AddressBuckets(10 * config.login_burst, 10 * config.login_refill_per_second, 100_000),
        config,
    )
    app[ACCESS] = AccessCheck(
        app[HUB].agents.access_state, sessions.is_live, config.revocation_check_seconds
    )
    for path, handler, summary, body, response, status in (
        ("/auth/login", login, "Log in with email and password", LoginBody, Session, 200),
        ("/auth/refresh", refresh, "Trade a refresh token for new ones", RefreshBody, Session, 200),
        ("/auth/logout", logout, "Revoke a refresh token", RefreshBody, None, 204),
    ):
        api.add(
            "POST",
            path,
            handler,
            roles=(),
            public=True,
            summary=summary,
            body=body,
            response=response,
            status=status,
        )
