"""Sync endpoints: the change feed, the paged snapshot, digests and offline push."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.api.routes import ANY_ROLE, API_ROUTES, principal_of
from hub.domain import Author
from hub.errors import BadRequest, ChorusError, Forbidden, NotFound
from hub.http.json_api import parse_query, read_json
from hub.state import CONFIG, HUB, MONGO
from hub.sync.feed import (
    SNAPSHOT_CURSOR_PATTERN,
    HiddenCollection,
    changes_page,
    snapshot_page,
    start_cursor,
)
from hub.sync.push import PushBatch, apply_push
from storage.changes import CHANGE_CURSOR_PATTERN, CursorExpired, InvalidChangeCursor
from storage.sync_feed import SyncFeedStore


class CursorExpiredError(ChorusError):
    code = "cursor_expired"
    status = 410


# The largest page any configuration allows (``sync.*_max_limit`` is at most this); a
# larger ``limit`` up to it is served as a page of the configured size, and the answer
# says whether more follows.
LIMIT_BOUND = 10_000


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(default=None, pattern=CHANGE_CURSOR_PATTERN)
    limit: int = Field(default=100, ge=1, le=LIMIT_BOUND)


class SnapshotQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, pattern=SNAPSHOT_CURSOR_PATTERN)
    limit: int = Field(default=100, ge=1, le=LIMIT_BOUND)


class DigestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation: str = Field(min_length=1, max_length=64)


FEED = web.AppKey("sync_feed_store", SyncFeedStore)


def _limit(value: int, ceiling: int) -> int:
    return min(value, ceiling)


async def get_changes(request: web.Request) -> web.Response:
    query = parse_query(request, ChangesQuery)
    config = request.app[CONFIG].sync
    store = request.app[FEED]
    role = principal_of(request).role
    if query.since is None:
        # No cursor: start from now. A device with no data should read the snapshot.
        return web.json_response(
            {"changes": [], "cursor": await start_cursor(store), "has_more": False}
        )
    limit = _limit(query.limit, config.feed_max_limit)
    try:
        page = await changes_page(store, role, query.since, limit, config.feed_await_ms)
    except CursorExpired as exc:
        raise CursorExpiredError(
            "the cursor is older than the retained change history; resync from "
            "GET /api/v1/sync/snapshot and continue with its changes_cursor"
        ) from exc
    except InvalidChangeCursor as exc:
        raise BadRequest(str(exc), code="invalid_cursor") from exc
    return web.json_response(page)


async def get_snapshot(request: web.Request) -> web.Response:
    query = parse_query(request, SnapshotQuery)
    limit = _limit(query.limit, request.app[CONFIG].sync.snapshot_max_limit)
    try:
        page = await snapshot_page(
            request.app[FEED], principal_of(request).role, query.cursor, limit
        )
    except InvalidChangeCursor as exc:
        raise BadRequest(str(exc), code="invalid_cursor") from exc
    except HiddenCollection as exc:
        raise Forbidden(str(exc)) from exc
    return web.json_response(page)


async def get_digest(request: web.Request) -> web.Response:
    query = parse_query(request, DigestQuery)
    digest = await request.app[FEED].conversation_digest(query.conversation)
    if digest.count == 0:
        raise NotFound(f"conversation {query.conversation} not found")
    return web.json_response({"conversation": query.conversation, **digest.as_dict()})


async def post_push(request: web.Request) -> web.Response:
    batch = await read_json(request, PushBatch)
    principal = principal_of(request)
    author = Author(kind="agent", id=principal.subject, name=str(principal.claims.get("name", "")))
    result = await apply_push(
        request.app[HUB], batch, author, request.app[CONFIG].sync.push_max_items
    )
    return web.json_response(result)


def setup(app: web.Application) -> None:
    app[FEED] = SyncFeedStore(app[MONGO])
    routes = app[API_ROUTES]
    routes.add(
        "GET",
        "/sync/changes",
        get_changes,
        roles=ANY_ROLE,
        summary="Ordered changes after a cursor (410 cursor_expired: resync from the snapshot)",
        query=ChangesQuery,
    )
    routes.add(
        "GET",
        "/sync/snapshot",
        get_snapshot,
        roles=ANY_ROLE,
        summary="Every visible document, paged, with the change cursor to continue from",
        query=SnapshotQuery,
        audit=True,
    )
    routes.add(
        "GET",
        "/sync/digest",
        get_digest,
        roles=ANY_ROLE,
        summary="SHA-256 digest of a conversation and its messages",
        query=DigestQuery,
    )
    routes.add(
        "POST",
        "/sync/push",
        post_push,
        roles=ANY_ROLE,
        summary="Store offline messages and state changes (idempotent)",
        body=PushBatch,
    )
