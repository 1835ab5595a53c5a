"""The API's route table: each endpoint with the roles allowed to call it.

This table is the single place that says who may do what; the auth middleware enforces
it, and tests walk it to check every endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from hub.auth import Principal, Role, TokenService
from hub.errors import Forbidden, Unauthorized
from hub.http import Handler
from hub.state import TOKENS

API_PREFIX = "/api/v1"
PRINCIPAL = web.RequestKey("principal", Principal)
ANY_ROLE: frozenset[Role] = frozenset({"admin", "agent"})
ADMIN_ONLY: frozenset[Role] = frozenset({"admin"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    roles: frozenset[Role]
    summary: str


class ApiRoutes:
    """Collects endpoints, then installs them on an app together with the auth check."""

    def __init__(self) -> None:
        self.endpoints: dict[tuple[str, str], Endpoint] = {}

    def add(
        self, method: str, path: str, handler: Handler, *, roles: Iterable[Role], summary: str
    ) -> None:
        full = API_PREFIX + path
        self.endpoints[(method, full)] = Endpoint(method, full, handler, frozenset(roles), summary)

    def install(self, app: web.Application) -> None:
        for endpoint in self.endpoints.values():
            app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)
        app.middlewares.append(self.auth_middleware)

    @web.middleware
    async def auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        route = request.match_info.route
        endpoint = self.endpoints.get(
            (request.method, route.resource.canonical if route.resource else "")
        )
        if endpoint is None:
            return await handler(request)  # the router answers 404/405
        request[PRINCIPAL] = principal = authenticate(request)
        if principal.role not in endpoint.roles:
            raise Forbidden(f"role {principal.role} may not call {request.method} {endpoint.path}")
        return await handler(request)


def authenticate(request: web.Request) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>", code="missing_token")
    tokens: TokenService = request.app[TOKENS]
    return tokens.verify(token.strip())


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]
