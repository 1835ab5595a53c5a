"""Agents' desk: assign and claim, private notes, labels, canned responses, bot metrics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.api.inbox import message_json
from hub.api.queries import QUERIES
from hub.api.routes import ADMIN_ONLY, ANY_ROLE, API_PREFIX, API_ROUTES, principal_of
from hub.api.schemas import ItemList, Label, Timestamp
from hub.bot.service import CANNED, ROUTER
from hub.domain import Author, Conversation, Message, utcnow
from hub.errors import BadRequest, Conflict, NotFound
from hub.http.json_api import parse_query, read_json
from hub.routing.canned import render, unknown_placeholders
from hub.routing.metrics import bot_metrics
from hub.routing.states import InvalidTransition
from hub.state import HUB
from storage.canned import ShortcutTaken

STATS_LIMIT = 10_000


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: str | None = Field(default=None, min_length=1, max_length=200)


class NoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)


class LabelsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add: list[Label] = Field(default_factory=list, max_length=50)
    remove: list[Label] = Field(default_factory=list, max_length=50)

    @field_validator("add", "remove")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        return [label.strip() for label in value]


class CannedBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shortcut: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    text: str = Field(min_length=1, max_length=4000)


class StatsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Timestamp | None = None


def _agent(request: web.Request) -> Author:
    principal = principal_of(request)
    return Author(kind="agent", id=principal.subject, name=str(principal.claims.get("name", "")))


async def assign(request: web.Request) -> web.Response:
    """Claim a conversation (no body) or give it to ``agent_id``; beats the policy."""
    body = await read_json(request, AssignBody) if request.can_read_body else AssignBody()
    actor = _agent(request)
    try:
        conversation = await request.app[ROUTER].claim(
            request.match_info["id"], body.agent_id or actor.id, actor
        )
    except InvalidTransition as exc:
        raise Conflict(str(exc), code="invalid_transition") from exc
    return web.json_response(conversation.model_dump(mode="json"))


async def add_note(request: web.Request) -> web.Response:
    body = await read_json(request, NoteBody)
    note = await request.app[HUB].reply(
        request.match_info["id"], _agent(request), body.text, private=True
    )
    return web.json_response(message_json(note), status=201)


async def change_labels(request: web.Request) -> web.Response:
    body = await read_json(request, LabelsBody)
    hub = request.app[HUB]
    conversation = await hub.require_conversation(request.match_info["id"])
    labels = sorted((set(conversation.labels) | set(body.add)) - set(body.remove))
    updated = await hub.update_conversation(
        conversation.id, {"labels": labels}, actor=_agent(request)
    )
    return web.json_response(updated.model_dump(mode="json"))


async def transitions(request: web.Request) -> web.Response:
    conversation = await request.app[HUB].require_conversation(request.match_info["id"])
    rows = await request.app[QUERIES].transitions(conversation.id)
    items = [
        {k: (v.isoformat() if k == "at" else v) for k, v in row.items() if k != "_id"}
        for row in rows
    ]
    return web.json_response({"items": items})


async def list_canned(request: web.Request) -> web.Response:
    return web.json_response({"items": await request.app[CANNED].list()})


async def create_canned(request: web.Request) -> web.Response:
    body = await read_json(request, CannedBody)
    unknown = unknown_placeholders(body.text)
    if unknown:
        raise BadRequest(f"unknown placeholders: {', '.join(unknown)}", code="unknown_placeholder")
    try:
        created = await request.app[CANNED].create(
            body.shortcut, body.text, principal_of(request).subject
        )
    except ShortcutTaken as exc:
        raise Conflict(f"shortcut {body.shortcut} is taken", code="shortcut_taken") from exc
    return web.json_response(created, status=201)


async def delete_canned(request: web.Request) -> web.Response:
    if not await request.app[CANNED].delete(request.match_info["id"]):
        raise NotFound(f"canned response {request.match_info['id']} not found")
    return web.Response(status=204)


async def send_canned(request: web.Request) -> web.Response:
    """Send a canned response in a conversation, placeholders filled for its contact."""
    hub = request.app[HUB]
    canned = await request.app[CANNED].get(request.match_info["response_id"])
    if canned is None:
        raise NotFound(f"canned response {request.match_info['response_id']} not found")
    conversation = await hub.require_conversation(request.match_info["id"])
    contact = await hub.get_contact(conversation.contact_id)
    agent = _agent(request)
    # Contact detail follows the route table: the role must be one that may read contacts.
    contacts = request.app[API_ROUTES].endpoints[("GET", f"{API_PREFIX}/contacts/{{id}}")]
    text = render(
        canned["text"],
        {
            "contact.name": contact.name if contact else None,
            "contact.email": contact.email if contact else None,
            "agent.name": agent.name or agent.id,
            "agent.id": agent.id,
            "conversation.id": conversation.id,
            "channel.name": conversation.channel,
        },
        reads_contacts=principal_of(request).role in contacts.roles,
    )
    message = await hub.reply(conversation.id, agent, text)
    return web.json_response(message_json(message), status=201)


async def bot_stats(request: web.Request) -> web.Response:
    query = parse_query(request, StatsQuery)
    since = query.since or utcnow() - timedelta(days=30)
    return web.json_response(await bot_summary(request.app, since))


async def bot_summary(app: web.Application, since: datetime) -> dict[str, Any]:
    """Containment, handoff reasons, first response times and ratings since ``since``."""
    activity = await app[QUERIES].bot_activity(since, STATS_LIMIT)
    metrics = bot_metrics(activity.history, activity.first_times, activity.resolved)
    ratings = activity.ratings
    metrics.update(
        since=since.isoformat(),
        conversations=len(activity.started),
        counters=activity.counters,
        ratings={
            "count": len(ratings),
            "mean": round(sum(ratings) / len(ratings), 3) if ratings else None,
        },
    )
    return metrics


def setup(app: web.Application) -> None:
    routes = app[API_ROUTES]
    conv = "/conversations/{id}"
    routes.add(
        "POST",
        f"{conv}/assign",
        assign,
        roles=ANY_ROLE,
        summary="Claim or assign",
        body=AssignBody,
        body_optional=True,
        response=Conversation,
    )
    routes.add(
        "POST",
        f"{conv}/notes",
        add_note,
        roles=ANY_ROLE,
        summary="Add a private note",
        body=NoteBody,
        response=Message,
        status=201,
    )
    routes.add(
        "POST",
        f"{conv}/labels",
        change_labels,
        roles=ANY_ROLE,
        summary="Add/remove labels",
        body=LabelsBody,
        response=Conversation,
    )
    routes.add(
        "GET",
        f"{conv}/events",
        transitions,
        roles=ANY_ROLE,
        summary="Status transitions",
        response=ItemList,
    )
    routes.add(
        "POST",
        f"{conv}/canned_responses/{{response_id}}",
        send_canned,
        roles=ANY_ROLE,
        summary="Send a canned response with placeholders filled",
        response=Message,
        status=201,
    )
    routes.add(
        "GET",
        "/canned_responses",
        list_canned,
        roles=ANY_ROLE,
        summary="Canned responses",
        response=ItemList,
    )
    routes.add(
        "POST",
        "/canned_responses",
        create_canned,
        roles=ANY_ROLE,
        summary="Add a canned response",
        body=CannedBody,
        status=201,
    )
    routes.add(
        "DELETE",
        "/canned_responses/{id}",
        delete_canned,
        roles=ADMIN_ONLY,
        summary="Delete a canned response",
        status=204,
    )
    routes.add(
        "GET",
        "/stats/bot",
        bot_stats,
        roles=ANY_ROLE,
        summary="Containment rate, handoff reasons, first response times",
        query=StatsQuery,
    )
