"""The API's route table: each endpoint with who may call it and what it takes and returns.

This table is the single place that says who may do what; the auth middleware enforces
it, the OpenAPI document is generated from it, the audit log follows it, and tests walk
it to check every endpoint.

Roles: ``admin`` may do what the table allows admins; ``agent`` likewise; ``viewer`` is
read-only and may call a GET endpoint that agents may call, unless the table says
``viewer=False`` (or lists ``viewer`` for a write). Service tokens add scopes: an endpoint
needs ``<resource>:read`` for GET and ``<resource>:write`` otherwise, ``resource`` being
the path's first segment (``conversations``, ``kb``, ...). A ``public`` endpoint (the
session endpoints, which are how a token is obtained) takes no token and no role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel

from hub.access.tokens import Principal, Role
from hub.api.access import AUDIT, authenticate, check_object, install_access
from hub.errors import Forbidden
from hub.http.json_api import Handler
from hub.runtime.logs import current_context

API_PREFIX = "/api/v1"
PRINCIPAL = web.RequestKey("principal", Principal)
ANY_ROLE: frozenset[Role] = frozenset({"admin", "agent"})
ADMIN_ONLY: frozenset[Role] = frozenset({"admin"})
_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[^}]*)?\}")


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    roles: frozenset[Role]
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    audit: bool = False
    body_optional: bool = False
    public: bool = False
    csv: bool = False
    # A multipart/form-data body (files), described by this model; alone or beside ``body``.
    form: type[BaseModel] | None = None

    @property
    def scope(self) -> str:
        resource = self.path.removeprefix(API_PREFIX + "/").split("/", 1)[0]
        return f"{resource}:{'read' if self.method == 'GET' else 'write'}"

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)


class ApiRoutes:
    """Collects endpoints (features add theirs at setup), then serves them on the app."""

    def __init__(self) -> None:
        self.endpoints: dict[tuple[str, str], Endpoint] = {}

    def add(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        roles: Iterable[Role],
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        viewer: bool | None = None,
        audit: bool | None = None,
        body_optional: bool = False,
        public: bool = False,
        csv: bool = False,
        form: type[BaseModel] | None = None,
    ) -> None:
        """Register an endpoint. ``viewer`` defaults to "GET and agents may call it";
        ``audit`` defaults to "an admin-only write"; ``public`` needs ``roles=()``;
        ``csv``: it also answers ``text/csv`` (with ``format=csv``)."""
        allowed = set(roles)
        if public and allowed:
            raise ValueError(f"public endpoint {method} {path} cannot also list roles")
        if viewer is None:
            viewer = method == "GET" and "agent" in allowed
        if viewer:
            allowed.add("viewer")
        if audit is None:
            audit = method != "GET" and allowed == {"admin"}
        full = API_PREFIX + path
        self.endpoints[(method, full)] = Endpoint(
            method,
            full,
            handler,
            frozenset(allowed),
            summary,
            body,
            query,
            response,
            status,
            audit,
            body_optional,
            public,
            csv,
            form,
        )

    def install(self, app: web.Application) -> None:
        """Serve every endpoint; ``auth_middleware`` must be in the app's middleware chain."""
        for endpoint in self.endpoints.values():
            app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)
        install_access(app)

    def endpoint_for(self, request: web.Request) -> Endpoint | None:
        route = request.match_info.route
        return self.endpoints.get(
            (request.method, route.resource.canonical if route.resource else "")
        )

    @web.middleware
    async def auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        endpoint = self.endpoint_for(request)
        if endpoint is None or endpoint.public:
            return await handler(request)  # the router answers 404/405
        request[PRINCIPAL] = principal = await authenticate(request)
        if principal.role not in endpoint.roles:
            raise Forbidden(f"role {principal.role} may not call {request.method} {endpoint.path}")
        if principal.scopes is not None and endpoint.scope not in principal.scopes:
            raise Forbidden(f"this token lacks the scope {endpoint.scope}", code="missing_scope")
        await check_object(request, principal)
        response = await handler(request)
        if endpoint.audit and response.status < 400:
            await request.app[AUDIT].record(
                who=principal.subject,
                role=principal.role,
                action=f"{endpoint.method} {endpoint.path}",
                target=dict(request.match_info),
                status=response.status,
                request_id=current_context().get("trace_id", ""),
            )
        return response


API_ROUTES = web.AppKey("api_routes", ApiRoutes)


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL]
