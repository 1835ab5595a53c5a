"""Admin queries: contacts (list, merge two) and aggregate statistics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.api.desk import bot_summary
from hub.api.routes import ADMIN_ONLY, API_ROUTES
from hub.api.schemas import IdCursor, Page, Timestamp
from hub.domain import Channel, Contact, utcnow
from hub.errors import Conflict, NotFound
from hub.http.json_api import parse_query, read_json
from hub.state import MONGO
from hub.webhooks.service import WEBHOOKS
from storage.insights import ContactMissing, ContactsMergeError, Insights

MAX_PAGE = 200
MAX_STATS_DAYS = 366


class ContactQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel | None = None
    q: str | None = Field(default=None, min_length=1, max_length=200)
    cursor: IdCursor | None = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_id: str = Field(min_length=1, max_length=200)


class StatsRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Timestamp | None = None
    until: Timestamp | None = None


class Stats(BaseModel):
    since: str
    until: str
    volumes: list[dict[str, Any]]
    first_response: dict[str, Any]
    resolution: dict[str, Any]
    bot: dict[str, Any]
    moderation: dict[str, int]


INSIGHTS = web.AppKey("insights", Insights)


def _insights(request: web.Request) -> Insights:
    return request.app[INSIGHTS]


async def list_contacts(request: web.Request) -> web.Response:
    query = parse_query(request, ContactQuery)
    items, cursor = await _insights(request).list_contacts(
        channel=query.channel, q=query.q, after=query.cursor, limit=query.limit
    )
    return web.json_response(
        {"items": [c.model_dump(mode="json") for c in items], "next_cursor": cursor}
    )


async def merge_contacts(request: web.Request) -> web.Response:
    body = await read_json(request, MergeBody)
    try:
        merged = await _insights(request).merge_contacts(request.match_info["id"], body.other_id)
    except ContactMissing as exc:
        raise NotFound(str(exc)) from exc
    except ContactsMergeError as exc:
        raise Conflict(str(exc), code="cannot_merge") from exc
    hooks = request.app.get(WEBHOOKS)
    if hooks is not None:  # the merge's write owes contact.merged: deliver it now
        hooks.sender.wake()
    return web.json_response(merged.model_dump(mode="json"))


async def stats(request: web.Request) -> web.Response:
    query = parse_query(request, StatsRange)
    until = query.until or utcnow()
    since = query.since or until - timedelta(days=30)
    # Any range is answered: one longer than MAX_STATS_DAYS covers its last days (the
    # answer's ``since`` says from when), and one that ends before it starts is empty.
    since = min(max(since, until - timedelta(days=MAX_STATS_DAYS)), until)
    insights = _insights(request)
    body = Stats(
        since=since.isoformat(),
        until=until.isoformat(),
        volumes=await insights.volumes(since, until),
        first_response=await insights.first_response(since, until),
        resolution=await insights.resolution(since, until),
        bot=await bot_summary(request.app, since),
        moderation=await insights.moderation_outcomes(since, until),
    )
    return web.json_response(body.model_dump(mode="json"))


def setup(app: web.Application) -> None:
    app[INSIGHTS] = Insights(app[MONGO])
    routes = app[API_ROUTES]
    routes.add(
        "GET",
        "/contacts",
        list_contacts,
        roles=ADMIN_ONLY,
        summary="Contacts by channel or name/email substring, with identities",
        query=ContactQuery,
        response=Page,
    )
    routes.add(
        "POST",
        "/contacts/{id}/merge",
        merge_contacts,
        roles=ADMIN_ONLY,
        summary="Fold another contact (other_id) into this one",
        body=MergeBody,
        response=Contact,
    )
    routes.add(
        "GET",
        "/stats",
        stats,
        roles=ADMIN_ONLY,
        summary=(
            "Volumes per channel and day, response and resolution times, bot, moderation "
            f"(over the last {MAX_STATS_DAYS} days of the range at most)"
        ),
        query=StatsRange,
        response=Stats,
    )
