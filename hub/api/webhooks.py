"""``/api/v1/webhooks``: admins register endpoints, list dead letters and replay them.

The endpoint's signing secret is shown once, when it is created. A URL that resolves to a
private, loopback or link-local address is refused (400 ``blocked_destination``) unless
``webhooks.allow_private_addresses`` is on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from hub.api.comments import COMMENTS, full_view
from hub.api.routes import ADMIN_ONLY, API_ROUTES, ApiRoutes
from hub.api.schemas import ItemList, Timestamp
from hub.domain import WebhookEndpoint, WebhookEventType
from hub.errors import BadRequest, NotFound
from hub.http.json_api import parse_query, read_json
from hub.state import CONFIG, HUB, MONGO
from hub.webhooks import service
from hub.webhooks.egress import BlockedAddress, check_url
from hub.webhooks.service import WEBHOOKS, Webhooks
from storage.mongo import Document


def _public_url(url: AnyHttpUrl) -> AnyHttpUrl:
    if url.username or url.password:
        raise ValueError("a webhook URL carries no user name or password")
    return url


class NewEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(description="where events are posted (http or https)")
    events: list[WebhookEventType] = Field(min_length=1, max_length=20)
    active: bool = True
    description: str = Field(default="", max_length=200)

    _no_credentials = field_validator("url")(_public_url)


class EndpointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    url: AnyHttpUrl | None = None
    events: list[WebhookEventType] | None = Field(default=None, min_length=1, max_length=20)
    active: bool | None = Field(default=None, description="false pauses, true resumes")
    description: str | None = Field(default=None, max_length=200)

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, url: AnyHttpUrl | None) -> AnyHttpUrl | None:
        return None if url is None else _public_url(url)


class CreatedEndpoint(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    secret: str = Field(description="signs every delivery; shown only now")


class DeadLetterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_id: str | None = Field(default=None, min_length=1, max_length=64)
    since: Timestamp | None = None
    until: Timestamp | None = None
    limit: int = Field(default=50, ge=1, le=200)


class ReplayRange(BaseModel):
    """Dead letters of events owed from ``since`` to before ``until`` are sent again (an
    ``until`` not after ``since`` is an empty range: none are)."""

    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime
    until: AwareDatetime
    endpoint_id: str | None = Field(default=None, min_length=1, max_length=64)


class Replayed(BaseModel):
    replayed: int


def _public(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return endpoint.model_dump(mode="json", exclude={"secret"})


def _dead_letter(doc: Document) -> dict[str, Any]:
    delivery = doc["delivery"]
    return {
        "id": doc["_id"],
        "endpoint_id": doc["endpoint_id"],
        "event_id": doc["event_id"],
        "event_type": doc["event_type"],
        "created_at": doc["created_at"].isoformat(),
        "attempts": delivery.get("attempts", 0),
        "reason": delivery.get("reason"),
        "failed_at": delivery["updated_at"].isoformat() if delivery.get("updated_at") else None,
    }


async def _allowed(request: web.Request, url: str) -> str:
    try:
        await check_url(url, request.app[WEBHOOKS].sender.resolver)
    except BlockedAddress as exc:
        raise BadRequest(
            f"{exc}; the hub posts only to public addresses", code="blocked_destination"
        ) from None
    return url


async def create_endpoint(request: web.Request) -> web.Response:
    body = await read_json(request, NewEndpoint)
    url = await _allowed(request, str(body.url))
    endpoint = await request.app[WEBHOOKS].endpoints.create(
        url, body.events, body.active, body.description
    )
    return web.json_response(_public(endpoint) | {"secret": endpoint.secret}, status=201)


async def list_endpoints(request: web.Request) -> web.Response:
    endpoints = await request.app[WEBHOOKS].endpoints.all()
    return web.json_response({"items": [_public(e) for e in endpoints]})


async def patch_endpoint(request: web.Request) -> web.Response:
    body = await read_json(request, EndpointPatch)
    changes = body.model_dump(exclude_unset=True, mode="json")
    if not changes:
        raise BadRequest("a patch changes something", code="empty_patch")
    if body.url is not None:
        changes["url"] = await _allowed(request, str(body.url))
    updated = await request.app[WEBHOOKS].endpoints.update(request.match_info["id"], changes)
    if updated is None:
        raise NotFound("no such webhook endpoint", code="endpoint_not_found")
    return web.json_response(_public(updated))


async def delete_endpoint(request: web.Request) -> web.Response:
    if not await request.app[WEBHOOKS].endpoints.delete(request.match_info["id"]):
        raise NotFound("no such webhook endpoint", code="endpoint_not_found")
    return web.json_response({"deleted": True})


async def list_dead_letters(request: web.Request) -> web.Response:
    query = parse_query(request, DeadLetterQuery)
    docs = await request.app[WEBHOOKS].endpoints.dead_letters(
        query.endpoint_id, query.since, query.until, query.limit
    )
    return web.json_response({"items": [_dead_letter(d) for d in docs]})


async def replay_one(request: web.Request) -> web.Response:
    if not await request.app[WEBHOOKS].endpoints.replay(request.match_info["id"]):
        raise NotFound("no such dead letter", code="dead_letter_not_found")
    request.app[WEBHOOKS].sender.wake()
    return web.json_response({"replayed": 1})


async def replay_range(request: web.Request) -> web.Response:
    body = await read_json(request, ReplayRange)
    if body.until <= body.since:  # an empty range: nothing in it to replay
        return web.json_response({"replayed": 0})
    count = await request.app[WEBHOOKS].endpoints.replay_range(
        body.endpoint_id, body.since, body.until
    )
    if count:
        request.app[WEBHOOKS].sender.wake()
    return web.json_response({"replayed": count})


def comment_listener(webhooks: Webhooks) -> Callable[[Document], Awaitable[None]]:
    """What moderation calls with each stored decision, whose write owes its comment event:
    events show comments as the API does, and the sender is woken to deliver now."""
    webhooks.events.comment_view = full_view

    async def decided(comment: Document) -> None:
        webhooks.sender.wake()

    return decided


def setup(app: web.Application) -> None:
    """Outbound webhooks, when ``webhooks.enabled``: the parts, the API, the sender's life
    (and comment moderation's decisions, when it runs, wake the sender)."""
    config = app[CONFIG]
    if not config.webhooks.enabled:
        return
    hub = app[HUB]
    hooks = service.build(config.webhooks, hub, app[MONGO], hub.metrics)
    app[WEBHOOKS] = hooks
    register(app[API_ROUTES])
    if COMMENTS in app:
        app[COMMENTS].on_decided = comment_listener(hooks)
    app.cleanup_ctx.append(service.sender_context(hooks, config.http.shutdown_grace_seconds))


def register(routes: ApiRoutes) -> None:
    add = routes.add
    add("POST", "/webhooks/endpoints", create_endpoint, roles=ADMIN_ONLY,
        summary="Register a webhook endpoint (its signing secret is shown once)",
        body=NewEndpoint, response=CreatedEndpoint, status=201)  # fmt: skip
    add("GET", "/webhooks/endpoints", list_endpoints, roles=ADMIN_ONLY,
        summary="Webhook endpoints, without their secrets; flagged ones the hub paused",
        response=ItemList)  # fmt: skip
    add("PATCH", "/webhooks/endpoints/{id}", patch_endpoint, roles=ADMIN_ONLY,
        summary="Change, pause (active: false) or resume a webhook endpoint",
        body=EndpointPatch)  # fmt: skip
    add("DELETE", "/webhooks/endpoints/{id}", delete_endpoint, roles=ADMIN_ONLY,
        summary="Remove a webhook endpoint")  # fmt: skip
    add("GET", "/webhooks/dead-letters", list_dead_letters, roles=ADMIN_ONLY,
        summary="Deliveries given up on, oldest event first", query=DeadLetterQuery,
        response=ItemList)  # fmt: skip
    add("POST", "/webhooks/dead-letters/{id}/replay", replay_one, roles=ADMIN_ONLY,
        summary="Send one dead letter again", response=Replayed)  # fmt: skip
    add("POST", "/webhooks/dead-letters/replay", replay_range, roles=ADMIN_ONLY,
        summary="Send again every dead letter of events owed in a time range",
        body=ReplayRange, response=Replayed)  # fmt: skip
