"""Reports: conversations, response times, the bot, ratings, agents and moderation.

Every report takes the same range (today, 7d, 30d or custom days, at most
``MAX_REPORT_DAYS``) and channel filter, answers JSON or, with ``format=csv``, one of
its tables as CSV. Admins see everyone and may filter by ``agent``; anyone else sees
their own conversations only. Figures come from daily buckets (``storage.reports``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub import reports
from hub.api.routes import ADMIN_ONLY, ANY_ROLE, API_ROUTES, ApiRoutes, principal_of
from hub.bot.service import ROUTER
from hub.domain import Channel, utcnow
from hub.errors import BadRequest, Forbidden
from hub.events import InboxEvent
from hub.http import parse_query
from hub.routing.states import stage_of
from hub.state import HUB, MONGO
from storage.agents import AgentStore
from storage.reports import HUMAN_STAGES, ReportStore

MAX_REPORT_DAYS = 92
RANGES = {"today": 1, "7d": 7, "30d": 30}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

REPORTS = web.AppKey("report_store", ReportStore)


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    range: Literal["today", "7d", "30d", "custom"] = "7d"
    since: date | None = None
    until: date | None = None
    channel: Channel | None = None
    agent: str | None = Field(default=None, min_length=1, max_length=200)
    format: Literal["json", "csv"] = "json"
    table: str | None = Field(default=None, pattern=r"^[a-z_]{1,40}$")


class ReportRange(BaseModel):
    since: str
    until: str
    channel: str | None
    agent: str | None


class Report(BaseModel):
    """A report: its range and filter, and its tables (each a list of flat rows)."""

    range: ReportRange
    tables: dict[str, list[dict[str, Any]]]


def report_days(query: ReportQuery, today: date) -> tuple[date, date]:
    """The first and last day (inclusive, UTC) the query covers."""
    if query.range != "custom":
        if query.since is not None or query.until is not None:
            raise BadRequest("since and until go with range=custom", code="invalid_range")
        return today - timedelta(days=RANGES[query.range] - 1), today
    if query.since is None or query.until is None:
        raise BadRequest("range=custom needs since and until (dates)", code="invalid_range")
    if not query.since <= query.until <= today:
        raise BadRequest(
            "since must not be after until, nor until after today", code="invalid_range"
        )
    if (query.until - query.since).days >= MAX_REPORT_DAYS:
        raise BadRequest(f"a report covers at most {MAX_REPORT_DAYS} days", code="invalid_range")
    return query.since, query.until


def report_filter(request: web.Request, query: ReportQuery) -> reports.ReportFilter:
    """Admins choose any agent; everyone else is held to their own conversations."""
    principal = principal_of(request)
    agent = query.agent
    if principal.role != "admin":
        if agent is not None and agent != principal.subject:
            raise Forbidden("only admins see other agents' reports", code="not_your_report")
        agent = principal.subject
    allowed = principal.allowed_channels
    if allowed is not None and (query.channel is None or query.channel not in allowed):
        raise Forbidden("this token is restricted to channels: name one", code="channel_restricted")
    return reports.ReportFilter(channel=query.channel, agent=agent)


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV; a cell that a spreadsheet would run as a formula is quoted with '."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


Figures = Callable[[web.Request, list[dict[str, Any]], reports.ReportFilter], Any]


def _report(name: str, figures: Figures) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        query = parse_query(request, ReportQuery)
        first, last = report_days(query, utcnow().date())
        where = report_filter(request, query)
        buckets = await request.app[REPORTS].buckets(first, last)
        tables: dict[str, list[dict[str, Any]]] = await figures(request, buckets, where)
        if query.format == "csv":
            table = query.table or next(iter(tables))
            if table not in tables:
                raise BadRequest(f"table must be one of {', '.join(tables)}", code="unknown_table")
            filename = f"chorus-{name}-{table}-{first}-{last}.csv"
            return web.Response(
                text=to_csv(tables[table]),
                content_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        scope = ReportRange(
            since=first.isoformat(),
            until=last.isoformat(),
            channel=where.channel,
            agent=where.agent,
        )
        return web.json_response(Report(range=scope, tables=tables).model_dump(mode="json"))

    return handler


async def _conversations(request: web.Request, buckets: Any, where: Any) -> Any:
    return reports.conversations(buckets, where)


async def _response_times(request: web.Request, buckets: Any, where: Any) -> Any:
    return reports.response_times(buckets, where)


async def _bot(request: web.Request, buckets: Any, where: Any) -> Any:
    return reports.bot(buckets, where)


async def _ratings(request: web.Request, buckets: Any, where: Any) -> Any:
    return reports.ratings(buckets, where)


async def _moderation(request: web.Request, buckets: Any, where: Any) -> Any:
    return reports.moderation(buckets)


async def _agents(request: web.Request, buckets: Any, where: Any) -> Any:
    listed = await AgentStore(request.app[MONGO]).list()
    names = {a.id: a.name for a in listed if where.agent in (None, a.id)}
    loads = dict(await request.app[ROUTER].store.loads())
    return reports.agents(buckets, where, names, loads)


PANELS: tuple[tuple[str, Figures, frozenset[str], str], ...] = (
    ("conversations", _conversations, ANY_ROLE, "Conversations started and reopened per day"),
    (
        "response-times",
        _response_times,
        ANY_ROLE,
        "First agent response and resolution: median and p90 per day, histogram",
    ),
    ("bot", _bot, ADMIN_ONLY, "Bot containment per day, handoff reasons, unanswered questions"),
    ("ratings", _ratings, ANY_ROLE, "Ratings: distribution, per day and per agent"),
    ("agents", _agents, ANY_ROLE, "Agents: handled, median response and resolution, load"),
    ("moderation", _moderation, ADMIN_ONLY, "Moderation verdicts per day, by stage and reason"),
)


def setup(app: web.Application) -> None:
    """The report store, its inbox listener and the report routes."""
    app[REPORTS] = store = ReportStore(app[MONGO])
    app[HUB].subscribe(ReportListener(store).on_event)
    register(app[API_ROUTES])


class ReportListener:
    """Inbox listener: the times reports need that no indexed range can give cheaply,
    kept on the conversation (its first public agent reply; when a person first held it)."""

    def __init__(self, store: ReportStore) -> None:
        self.store = store

    async def on_event(self, event: InboxEvent) -> None:
        message = event.message
        conversation, previous = event.conversation, event.previous
        if event.kind == "message" and message is not None:
            public_reply = message.direction == "outbound" and not message.private
            if public_reply and message.author.kind == "agent":
                await self.store.note_first_reply(conversation.id, message.created_at)
            if not event.new_conversation:
                return
        now_human = stage_of(conversation.status, conversation.assignee) in HUMAN_STAGES
        if now_human and (
            previous is None or stage_of(previous.status, previous.assignee) not in HUMAN_STAGES
        ):
            await self.store.note_human(conversation.id, conversation.updated_at)


def register(routes: ApiRoutes) -> None:
    for name, figures, roles, summary in PANELS:
        routes.add(
            "GET",
            f"/reports/{name}",
            _report(name, figures),
            roles=roles,  # type: ignore[arg-type]
            summary=summary + " (format=csv: one table as CSV)",
            query=ReportQuery,
            response=Report,
            csv=True,
        )
