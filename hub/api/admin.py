"""Admin-only endpoints: service tokens for integrations, and the audit log."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, JsonValue, create_model

from hub.access.tokens import Role
from hub.api.access import AUDIT, SERVICE_TOKENS
from hub.api.routes import ADMIN_ONLY, API_ROUTES, ApiRoutes, principal_of
from hub.api.schemas import Timestamp
from hub.errors import BadRequest, NotFound
from hub.http.json_api import parse_query, read_json
from storage.audit import entry_view
from storage.service_tokens import public_view

MAX_PAGE = 200


class ServiceTokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Role = "agent"
    scopes: list[str] = Field(min_length=1, max_length=50)


class ServiceTokenView(BaseModel):
    id: str
    name: str
    role: Role
    scopes: list[str]
    created_by: str
    created_at: str
    revoked_at: str | None


class CreatedServiceToken(ServiceTokenView):
    token: str = Field(description="the secret, shown this once; send as Bearer")


class ServiceTokenList(BaseModel):
    items: list[ServiceTokenView]


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    who: str | None = Field(default=None, max_length=200)
    action: str | None = Field(default=None, max_length=300)
    since: Timestamp | None = None
    until: Timestamp | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class AuditEntry(BaseModel):
    id: str
    who: str
    role: str
    action: str
    target: dict[str, str]
    status: int
    request_id: str
    at: str


class AuditList(BaseModel):
    items: list[AuditEntry]


def known_scopes(routes: ApiRoutes) -> set[str]:
    return {endpoint.scope for endpoint in routes.endpoints.values()}


def _token_body(scopes: set[str]) -> type[ServiceTokenBody]:
    """The body model with the scopes this hub knows as an enum, so the document lists them."""
    scopes_field = Field(
        min_length=1,
        max_length=50,
        json_schema_extra={"items": {"enum": list[JsonValue](sorted(scopes))}},
    )
    return create_model(
        "ServiceTokenBody", __base__=ServiceTokenBody, scopes=(list[str], scopes_field)
    )


def _create_token(body_model: type[ServiceTokenBody], scopes: set[str]) -> Any:
    async def create_token(request: web.Request) -> web.Response:
        body = await read_json(request, body_model)
        unknown = sorted(set(body.scopes) - scopes)
        if unknown:
            raise BadRequest(f"unknown scopes: {', '.join(unknown)}", code="unknown_scope")
        secret, doc = await request.app[SERVICE_TOKENS].create(
            body.name, body.role, body.scopes, principal_of(request).subject
        )
        return web.json_response({**public_view(doc), "token": secret}, status=201)

    return create_token


async def list_tokens(request: web.Request) -> web.Response:
    docs = await request.app[SERVICE_TOKENS].list(MAX_PAGE)
    return web.json_response({"items": [public_view(doc) for doc in docs]})


async def revoke_token(request: web.Request) -> web.Response:
    if not await request.app[SERVICE_TOKENS].revoke(request.match_info["id"]):
        raise NotFound(f"active service token {request.match_info['id']} not found")
    return web.Response(status=204)


async def audit_log(request: web.Request) -> web.Response:
    query = parse_query(request, AuditQuery)
    docs = await request.app[AUDIT].query(
        who=query.who, action=query.action, since=query.since, until=query.until, limit=query.limit
    )
    return web.json_response({"items": [entry_view(doc) for doc in docs]})


def setup(app: web.Application) -> None:
    """Call last: the scopes a token may hold are those of the endpoints registered before."""
    routes = app[API_ROUTES]
    routes.add(
        "GET",
        "/service-tokens",
        list_tokens,
        roles=ADMIN_ONLY,
        summary="Service tokens (without their secrets)",
        response=ServiceTokenList,
    )
    routes.add(
        "DELETE",
        "/service-tokens/{id}",
        revoke_token,
        roles=ADMIN_ONLY,
        summary="Revoke a service token; effective on the next request",
        status=204,
    )
    routes.add(
        "GET",
        "/audit",
        audit_log,
        roles=ADMIN_ONLY,
        summary="Admin actions, newest first",
        query=AuditQuery,
        response=AuditList,
    )
    scopes = known_scopes(routes) | {"service-tokens:write", "audit:read"}
    body_model = _token_body(scopes)
    routes.add(
        "POST",
        "/service-tokens",
        _create_token(body_model, scopes),
        roles=ADMIN_ONLY,
        summary="Create a service token with scopes; the secret is shown once",
        body=body_model,
        response=CreatedServiceToken,
        status=201,
    )
