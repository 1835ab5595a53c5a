"""Reports: conversations, response times, the bot, ratings, agents and moderation.

Every report takes the same range (today, 7d, 30d or custom days, at most
``MAX_REPORT_DAYS``) and channel filter, answers JSON or, with ``format=csv``, one of
its tables as CSV. Admins see everyone and may filter by ``agent``; anyone else sees
their own conversations only. Figures come from daily buckets (``storage.reports``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, create_model

from hub.api.routes import ADMIN_ONLY, ANY_ROLE, API_ROUTES, ApiRoutes, principal_of
from hub.bot.service import ROUTER
from hub.core import reports
from hub.domain import Channel, utcnow
from hub.errors import BadRequest, Forbidden
from hub.http.json_api import parse_query
from hub.routing.states import stage_of
from hub.runtime.events import InboxEvent
from hub.state import HUB, MONGO
from storage.agents import AgentStore
from storage.reports import HUMAN_STAGES, REFRESH, ReportStore

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_REPORT_DAYS = 92
RANGES = {"today": 1, "7d": 7, "30d": 30}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

TABLE_PATTERN = r"^[a-z_]{1,40}$"

REPORTS = web.AppKey("report_store", ReportStore)
AGENT_NAMES = web.AppKey("report_agent_store", AgentStore)


class Snapshot(Generic[T]):
    """A live figure's source read at most once a ``REFRESH`` period: agents' current loads
    and the held comments. Both read every matching document (the embedded server fetches
    each document an index finds, even to count or to find the oldest), so a report answers
    with the last read and reads again behind."""

    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self.read = read
        self.value: T | None = None
        self.read_at: datetime | None = None
        self._again: asyncio.Task[None] | None = None

    async def get(self, now: datetime) -> T:
        if self.value is None or self.read_at is None:
            self.value, self.read_at = await self.read(), now
        elif now - self.read_at > REFRESH and (self._again is None or self._again.done()):
            self._again = asyncio.get_running_loop().create_task(self._quiet_read(now))
        return self.value

    async def _quiet_read(self, now: datetime) -> None:
        try:
            self.value, self.read_at = await self.read(), now
        except Exception:  # the next report tries again; this one has its answer
            log.warning("report figure read failed", exc_info=True)


LOADS = web.AppKey("report_loads", Snapshot[Counter[str]])
HELD = web.AppKey("report_held", Snapshot[list[dict[str, Any]]])


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    range: Literal["today", "7d", "30d", "custom"] = "7d"
    since: date | None = None
    until: date | None = None
    channel: Channel | None = None
    agent: str | None = Field(default=None, min_length=1, max_length=200)
    format: Literal["json", "csv"] = "json"
    table: str | None = Field(default=None, pattern=TABLE_PATTERN)  # see ``panel_query``


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
    """The first and last day (inclusive, UTC) the query covers.

    A preset range ends today. Dates make the range custom (``range=custom`` alone is the
    7 days to today): a missing ``until`` is today, a missing ``since`` the preset's length
    before ``until``. Any dates are served: ``until`` after today is today, ``since`` after
    ``until`` is that one day, and at most ``MAX_REPORT_DAYS`` up to ``until`` are covered
    (the answer's ``range`` states the days it covers).
    """
    days = RANGES.get(query.range, RANGES["7d"])
    if query.range != "custom" and query.since is None and query.until is None:
        return _days_before(today, days), today
    until = min(query.until or today, today)
    since = query.since or _days_before(until, days)
    return min(max(since, _days_before(until, MAX_REPORT_DAYS)), until), until


def _days_before(last: date, days: int) -> date:
    """The first of ``days`` days ending on ``last`` (never before the first date)."""
    return last - min(timedelta(days=days - 1), last - date.min)


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


def _report(name: str, figures: Figures, model: type[ReportQuery]) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        query = parse_query(request, model)
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
    first, last = date.fromisoformat(buckets[0]["_id"]), date.fromisoformat(buckets[-1]["_id"])
    now = utcnow()
    held = [c for c in await request.app[HELD].get(now) if first <= c["created_at"].date() <= last]
    return reports.moderation(buckets, where, held, now)


async def _agents(request: web.Request, buckets: Any, where: Any) -> Any:
    listed = await request.app[AGENT_NAMES].list()
    names = {a.id: a.name for a in listed if where.agent in (None, a.id)}
    loads = await request.app[LOADS].get(utcnow())
    return reports.agents(buckets, where, names, dict(loads))


# name, figures, roles, summary, and the tables it answers (the ``table`` a CSV names)
PANELS: tuple[tuple[str, Figures, frozenset[str], str, tuple[str, ...]], ...] = (
    (
        "conversations",
        _conversations,
        ANY_ROLE,
        "Conversations started and reopened per day",
        ("days",),
    ),
    (
        "response-times",
        _response_times,
        ANY_ROLE,
        "First agent response and resolution: median and p90 per day, histogram",
        ("days", "histogram"),
    ),
    (
        "bot",
        _bot,
        ADMIN_ONLY,
        "Bot containment and external bot webhook failures per day, handoff reasons,"
        " unanswered questions",
        ("days", "handoff_reasons", "unanswered", "webhook_failures"),
    ),
    (
        "ratings",
        _ratings,
        ANY_ROLE,
        "Ratings: distribution, per day and per agent",
        ("distribution", "days", "agents"),
    ),
    (
        "agents",
        _agents,
        ANY_ROLE,
        "Agents: handled, median response and resolution, load (read at most once a minute)",
        ("agents",),
    ),
    (
        "moderation",
        _moderation,
        ADMIN_ONLY,
        "Moderation verdicts per day, by stage and reason; the age of the range's comments"
        " still held (oldest, median; the held comments read at most once a minute)",
        ("days", "by_reason", "queue"),
    ),
)


def panel_query(name: str, tables: tuple[str, ...]) -> type[ReportQuery]:
    """A report's query, whose schema names the tables that report answers (any other is
    refused as ``unknown_table``)."""
    title = "".join(part.title() for part in name.split("-")) + "ReportQuery"
    table = Field(default=None, pattern=TABLE_PATTERN, json_schema_extra={"enum": list(tables)})
    model: type[ReportQuery] = create_model(title, __base__=ReportQuery, table=(str | None, table))
    return model


def setup(app: web.Application) -> None:
    """The report store, its inbox listener and the report routes."""
    app[REPORTS] = store = ReportStore(app[MONGO])
    app[LOADS] = Snapshot(lambda: app[ROUTER].loads())
    app[HELD] = Snapshot(lambda: store.held(_days_before(utcnow().date(), MAX_REPORT_DAYS)))
    app[AGENT_NAMES] = AgentStore(app[MONGO])
    app[HUB].subscribe(ReportListener(store).on_event)
    register(app[API_ROUTES])

    async def close_store(app: web.Application) -> AsyncIterator[None]:
        yield
        await store.close()

    app.cleanup_ctx.append(close_store)


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
    for name, figures, roles, summary, tables in PANELS:
        query = panel_query(name, tables)
        routes.add(
            "GET",
            f"/reports/{name}",
            _report(name, figures, query),
            roles=roles,  # type: ignore[arg-type]
            summary=summary + " (format=csv: one table as CSV)",
            query=query,
            response=Report,
            csv=True,
        )
