"""Who is calling, and may they see this object: bearer tokens and channel restrictions.

A bearer token is either a JWT (people, short-lived) or a service token (``chs_…``,
integrations, long-lived, looked up by hash on every request so revocation is immediate).
A JWT must also name an enabled agent and, when it carries ``sid``, a live session.
A caller whose token lists ``allowed_channels`` sees only conversations and messages on
those channels (the rule lives in ``hub.access.visibility``, which the live feed applies too);
anything else answers 404, exactly like an id that does not exist, so guessing ids tells
nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web

from hub.access.tokens import ACCESS, ROLES, Principal
from hub.access.visibility import may_see_channel
from hub.api.queries import QUERIES, InboxQueries
from hub.errors import Forbidden, NotFound, Unauthorized
from hub.state import BOT_STORE, MONGO, TOKENS
from storage.audit import AuditLog
from storage.service_tokens import PREFIX, ServiceTokenStore

AUDIT = web.AppKey("audit", AuditLog)
SERVICE_TOKENS = web.AppKey("service_tokens", ServiceTokenStore)


def install_access(app: web.Application) -> None:
    mongo = app[MONGO]
    app[AUDIT] = AuditLog(mongo)
    app[SERVICE_TOKENS] = ServiceTokenStore(mongo)
    app[QUERIES] = InboxQueries(mongo, app[BOT_STORE])


async def authenticate(request: web.Request) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <token>", code="missing_token")
    if token.startswith(PREFIX):
        return await _service_principal(request, token)
    principal = request.app[TOKENS].verify(token)
    await request.app[ACCESS].require(principal)
    return principal


async def _service_principal(request: web.Request, token: str) -> Principal:
    doc = await request.app[SERVICE_TOKENS].find_active(token)
    if doc is None or doc.get("role") not in ROLES:
        raise Unauthorized("unknown or revoked service token", code="invalid_token")
    claims: dict[str, Any] = {"sub": f"service:{doc['_id']}", "name": doc["name"]}
    if doc.get("allowed_channels") is not None:
        claims["allowed_channels"] = list(doc["allowed_channels"])
    return Principal(
        subject=claims["sub"], role=doc["role"], claims=claims, scopes=frozenset(doc["scopes"])
    )


async def check_object(request: web.Request, principal: Principal) -> None:
    """404 for a conversation or message on a channel the caller may not see."""
    allowed = principal.allowed_channels
    if allowed is None:
        return
    resource = request.match_info.route.resource
    path = resource.canonical if resource else ""
    if path.startswith("/api/v1/sync/"):
        # The sync feed is not filtered by channel: restricted callers do not get it.
        raise Forbidden("this token is restricted to channels; sync is not available")
    object_id = request.match_info.get("id")
    if object_id is None:
        return
    kind: Literal["conversation", "message"]
    if path.startswith("/api/v1/conversations/{id}"):
        kind = "conversation"
    elif path == "/api/v1/messages/{id}":
        kind = "message"
    else:
        return
    channel = await request.app[QUERIES].channel_of(kind, object_id)
    if not may_see_channel(principal, channel):
        raise NotFound(f"{kind} {object_id} not found")
