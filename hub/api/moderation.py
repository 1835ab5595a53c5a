"""Human review and rules: the held queue, approve/reject (one or many), the rules in force.

Agents and admins review; every review is appended to the comment's trail with who
decided, when and why. Only admins replace or reload the rules.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from hub.api.comments import COMMENTS, full_view
from hub.api.routes import ADMIN_ONLY, ANY_ROLE, ApiRoutes, principal_of
from hub.api.schemas import VISIBLE_PATTERN, IdCursor, Page, Visible
from hub.comments.service import ReviewAction
from hub.errors import BadRequest, ChorusError
from hub.http.json_api import parse_query, read_json
from moderation import ModerationRules
from storage.paging import InvalidCursor


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200)
    cursor: IdCursor | None = None


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(default="", max_length=500)


class RejectBody(BaseModel):
    """A rejection says why: the reason is shown to whoever reviews the log."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Annotated[Visible, StringConstraints(max_length=500)]


# JSON Schema states the rule the handler enforces: a bulk rejection needs a reason.
_REJECT_NEEDS_REASON: dict[str, JsonValue] = {
    "if": {"properties": {"action": {"const": "reject"}}},
    "then": {
        "required": ["reason"],
        "properties": {"reason": {"minLength": 1, "pattern": VISIBLE_PATTERN}},
    },
}


class BulkReview(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_REJECT_NEEDS_REASON)

    action: Literal["approve", "reject"]
    ids: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=200
    )
    reason: str = Field(default="", max_length=500)


async def queue(request: web.Request) -> web.Response:
    query = parse_query(request, QueueQuery)
    try:
        docs, cursor = await request.app[COMMENTS].page(
            {"status": "held"}, query.limit, query.cursor, oldest_first=True
        )
    except InvalidCursor as exc:
        raise BadRequest(str(exc), code="invalid_cursor") from exc
    return web.json_response({"items": [full_view(d) for d in docs], "next_cursor": cursor})


async def _review_one(request: web.Request, action: ReviewAction) -> web.Response:
    body = ReviewBody()
    if request.can_read_body:
        body = await read_json(request, ReviewBody)
    if action == "reject" and not body.reason.strip():
        raise BadRequest("a rejection needs a reason", code="reason_required")
    principal = principal_of(request)
    doc = await request.app[COMMENTS].review(
        request.match_info["id"], action, body.reason.strip(), principal.subject, principal.role
    )
    return web.json_response(full_view(doc))


async def approve(request: web.Request) -> web.Response:
    return await _review_one(request, "approve")


async def reject(request: web.Request) -> web.Response:
    return await _review_one(request, "reject")


async def bulk(request: web.Request) -> web.Response:
    body = await read_json(request, BulkReview)
    if body.action == "reject" and not body.reason.strip():
        raise BadRequest("a rejection needs a reason", code="reason_required")
    principal = principal_of(request)
    service = request.app[COMMENTS]
    results: list[dict[str, Any]] = []
    for comment_id in dict.fromkeys(body.ids):
        try:
            doc = await service.review(
                comment_id, body.action, body.reason.strip(), principal.subject, principal.role
            )
        except ChorusError as exc:
            results.append({"id": comment_id, "ok": False, "code": exc.code})
        else:
            results.append({"id": comment_id, "ok": True, "status": doc["status"]})
    return web.json_response({"results": results})


async def get_rules(request: web.Request) -> web.Response:
    rules = request.app[COMMENTS].rules
    pipeline = await rules.current()
    return web.json_response(
        {
            "version": pipeline.version,
            "origin": rules.origin,
            "rules": pipeline.rules.model_dump(mode="json"),
        }
    )


async def put_rules(request: web.Request) -> web.Response:
    rules = await read_json(request, ModerationRules)
    version = await request.app[COMMENTS].replace_rules(rules, principal_of(request).subject)
    return web.json_response({"version": version, "origin": "stored"})


async def reload_rules(request: web.Request) -> web.Response:
    rules = request.app[COMMENTS].rules
    pipeline = await rules.reload()
    return web.json_response({"version": pipeline.version, "origin": rules.origin})


def register(api: ApiRoutes) -> None:
    api.add(
        "GET",
        "/moderation/queue",
        queue,
        roles=ANY_ROLE,
        summary="held comments, oldest first",
        query=QueueQuery,
        response=Page,
    )
    for action, handler, body in (("approve", approve, ReviewBody), ("reject", reject, RejectBody)):
        api.add(
            "POST",
            f"/moderation/{{id}}/{action}",
            handler,
            roles=ANY_ROLE,
            summary=f"{action} a held comment",
            body=body,
            body_optional=action == "approve",
        )
    api.add(
        "POST",
        "/moderation/bulk",
        bulk,
        roles=ANY_ROLE,
        summary="approve or reject many",
        body=BulkReview,
    )
    api.add("GET", "/moderation/rules", get_rules, roles=ANY_ROLE, summary="the rules in force")
    api.add(
        "PUT",
        "/moderation/rules",
        put_rules,
        roles=ADMIN_ONLY,
        summary="replace the rules",
        body=ModerationRules,
    )
    api.add("POST", "/moderation/reload", reload_rules, roles=ADMIN_ONLY, summary="reload rules")
