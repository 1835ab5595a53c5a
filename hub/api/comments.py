"""Comment endpoints: the public ``POST /comment`` and ``GET /comments``, and the API's.

The public pair needs no token and answers in the simple ``{"status": ...}`` shape that
comment widgets expect; each client address has a token bucket. The API endpoints use the
usual bearer tokens and error shape.
"""

from __future__ import annotations

import functools
import math
import secrets
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from hub.api.routes import ANY_ROLE, ApiRoutes, principal_of
from hub.api.schemas import TEXT_SCHEMA, IdCursor, Page, TimeCursor
from hub.comments.service import CommentService, CommentSubmission, author_key, web_trust_key
from hub.errors import BadRequest, ChorusError, NotFound, RateLimited
from hub.http.json_api import Handler, parse_query, read_json
from hub.http.rate_limit import AddressBuckets
from hub.state import CONFIG
from moderation import Source
from storage.mongo import Document
from storage.paging import InvalidCursor

COMMENTS = web.AppKey("comments", CommentService)
BUCKETS = web.AppKey("comment_buckets", AddressBuckets)

TARGET_PATTERN = r"^[\w.:/#@+-]+$"
BASE64URL_PATTERN = r"^[A-Za-z0-9_-]+$"


class CommentFields(BaseModel):
    """What a comment may carry besides its text, wherever it is submitted."""

    model_config = ConfigDict(extra="forbid", strict=True)

    author: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None  # email-validator also enforces the 254-character limit
    target: str | None = Field(default=None, min_length=1, max_length=200, pattern=TARGET_PATTERN)
    rating: int | None = Field(default=None, ge=1, le=5)


class PublicComment(CommentFields):
    comment: str = Field(max_length=100_000)
    author_token: str | None = Field(
        default=None, min_length=16, max_length=100, pattern=BASE64URL_PATTERN
    )


class ApiComment(CommentFields):
    # The schema states what the pipeline refuses (blank text, control characters); the
    # handler keeps its own codes for them (empty_comment, control_characters).
    text: str = Field(max_length=100_000, json_schema_extra=TEXT_SCHEMA)
    source: Literal["web", "social"] = "web"
    author_key: str | None = Field(default=None, min_length=1, max_length=200)


class PublicQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str | None = Field(default=None, min_length=1, max_length=200, pattern=TARGET_PATTERN)
    limit: int = Field(default=20, ge=1, le=100)
    cursor: TimeCursor | None = None


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["approved", "held", "rejected"] | None = None
    source: Literal["web", "social"] | None = None
    target: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)
    cursor: IdCursor | None = None


class Throttled(RateLimited):
    def __init__(self, retry_after: float) -> None:
        super().__init__("too many requests from this address, slow down")
        self.retry_after = retry_after


def public_view(doc: Document) -> dict[str, Any]:
    """What anyone may see of an approved comment."""
    published = doc.get("published_at")
    return {
        "id": doc["_id"],
        "comment": doc["text"],
        "author": doc["author"].get("name") or "",
        "target": doc.get("target"),
        "rating": doc.get("rating"),
        "source": doc["source"],
        "created_at": doc["created_at"].isoformat(),
        "published_at": published.isoformat() if published else None,
    }


def full_view(doc: Document) -> dict[str, Any]:
    """What agents and admins see: the decision with every stage's verdict, the reviews."""
    view = public_view(doc)
    view.pop("comment")
    view.update(
        text=doc["text"],
        status=doc["status"],
        author=doc["author"],
        external=doc.get("external"),
        decision=_jsonable(doc["decision"]),
        reviews=_jsonable(doc.get("reviews", [])),
    )
    return view


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def client_address(request: web.Request) -> str:
    if request.app[CONFIG].moderation.trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"


def public_endpoint(handler: Handler) -> Handler:
    """Rate limit per address; render errors as ``{"status": "error", "message"}``."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            wait = request.app[BUCKETS].take(client_address(request))
            if wait > 0:
                raise Throttled(wait)
            return await handler(request)
        except ChorusError as exc:
            body = {"status": "error", "message": exc.message, "code": exc.code}
            headers = {}
            if isinstance(exc, Throttled):
                headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
            return web.json_response(body, status=exc.status, headers=headers)

    return wrapped


async def _submit(
    request: web.Request,
    text: str,
    fields: CommentFields,
    *,
    source: Source,
    key: str,
    trust_key: str | None,
    address: str | None = None,
) -> Document:
    """Refuse empty or oversized text, then moderate and store the comment."""
    config = request.app[CONFIG].moderation
    if not text.strip():
        raise BadRequest("the comment is empty", code="empty_comment")
    if len(text) > config.max_comment_chars:
        raise BadRequest(
            f"the comment is longer than {config.max_comment_chars} characters", code="too_long"
        )
    submission = CommentSubmission(
        text=text,
        source=source,
        author_key=key,
        trust_key=trust_key,
        author_name=(fields.author or "").strip()[: config.max_author_chars],
        email=fields.email.strip().lower() if fields.email else None,
        address=address,
        target=fields.target,
        rating=fields.rating,
    )
    return (await request.app[COMMENTS].submit(submission)).comment


@public_endpoint
async def post_comment(request: web.Request) -> web.Response:
    body = await read_json(request, PublicComment)
    address = client_address(request)
    key = author_key(body.email, address, "anonymous")
    token = body.author_token or secrets.token_urlsafe(24)
    trust = web_trust_key(key, token)
    doc = await _submit(
        request, body.comment, body, source="web", key=key, trust_key=trust, address=address
    )
    if doc["status"] == "rejected":
        reason = doc["decision"]["reason"]
        return web.json_response(
            {
                "status": "error",
                "message": "Your comment was not accepted.",
                "code": reason,
                "id": doc["_id"],
            },
            status=422,
        )
    message = (
        "Thank you, your comment is published."
        if doc["status"] == "approved"
        else "Thank you, your comment will appear once it has been reviewed."
    )
    return web.json_response(
        {
            "status": "success",
            "message": message,
            "id": doc["_id"],
            "moderation": doc["status"],
            "author_token": token,
        },
        status=201,
    )


@public_endpoint
async def get_comments(request: web.Request) -> web.Response:
    query = parse_query(request, PublicQuery)
    try:
        docs, cursor = await request.app[COMMENTS].published(
            query.target, query.limit, query.cursor
        )
    except InvalidCursor as exc:
        raise BadRequest(str(exc), code="invalid_cursor") from exc
    return web.json_response(
        {"status": "success", "comments": [public_view(d) for d in docs], "next_cursor": cursor}
    )


async def api_post_comment(request: web.Request) -> web.Response:
    body = await read_json(request, ApiComment)
    fallback = f"api:{principal_of(request).subject}"
    key = body.author_key or author_key(body.email, None, fallback)
    # An authenticated caller vouches for the author it names.
    doc = await _submit(request, body.text, body, source=body.source, key=key, trust_key=key)
    return web.json_response(full_view(doc), status=201)


async def api_list_comments(request: web.Request) -> web.Response:
    query = parse_query(request, ListQuery)
    filters = {"status": query.status, "source": query.source, "target": query.target}
    try:
        docs, cursor = await request.app[COMMENTS].page(
            filters, query.limit, query.cursor, oldest_first=False
        )
    except InvalidCursor as exc:
        raise BadRequest(str(exc), code="invalid_cursor") from exc
    return web.json_response({"items": [full_view(d) for d in docs], "next_cursor": cursor})


async def api_get_comment(request: web.Request) -> web.Response:
    doc = await request.app[COMMENTS].comment(request.match_info["id"])
    if doc is None:
        raise NotFound(f"comment {request.match_info['id']} not found", code="comment_not_found")
    return web.json_response(full_view(doc))


def register(api: ApiRoutes) -> None:
    api.add(
        "POST",
        "/comments",
        api_post_comment,
        roles=ANY_ROLE,
        summary="submit a comment",
        body=ApiComment,
        status=201,
    )
    api.add(
        "GET",
        "/comments",
        api_list_comments,
        roles=ANY_ROLE,
        summary="all comments",
        query=ListQuery,
        response=Page,
    )
    api.add("GET", "/comments/{id}", api_get_comment, roles=ANY_ROLE, summary="one comment")


def public_routes() -> list[web.RouteDef]:
    return [web.post("/comment", post_comment), web.get("/comments", get_comments)]
