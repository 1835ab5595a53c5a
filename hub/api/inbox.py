"""API endpoints over conversations, messages and contacts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.api.routes import ADMIN_ONLY, ANY_ROLE, ApiRoutes, principal_of
from hub.api.schemas import IdCursor, Label, Page, TimeCursor, Timestamp
from hub.domain import (
    Attachment,
    Author,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
)
from hub.errors import BadRequest, NotFound
from hub.http import not_null, parse_query, read_json
from hub.state import HUB
from hub.visibility import channel_filter
from storage.paging import InvalidCursor

MAX_PAGE = 200


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: IdCursor | None = None


class TimeRange(Query):
    since: Timestamp | None = None
    until: Timestamp | None = None
    contact_id: str | None = Field(default=None, min_length=1, max_length=200)


class ConversationQuery(TimeRange):
    """Filters on conversations; the time range applies to their last message."""

    cursor: TimeCursor | None = None
    status: ConversationStatus | None = None
    channel: Channel | None = None
    assignee: str | None = Field(default=None, max_length=200)
    label: str | None = Field(default=None, min_length=1, max_length=64)


class MessageQuery(TimeRange):
    """Filters on messages; ``text`` matches a case-insensitive substring of the text."""

    channel: Channel | None = None
    direction: Direction | None = None
    text: str | None = Field(default=None, min_length=1, max_length=200)


def time_filter(query: TimeRange) -> dict[str, datetime] | None:
    span = {}
    if query.since is not None:
        span["$gte"] = query.since
    if query.until is not None:
        span["$lt"] = query.until
    return span or None


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=20_000)
    attachments: list[Attachment] = Field(default_factory=list, max_length=10)
    private: bool = False
    client_id: str | None = Field(default=None, min_length=1, max_length=100)


class ConversationPatch(BaseModel):
    # A patch changes something (``empty_patch`` otherwise).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=not_null("status", one_of=("status", "assignee", "labels")),
    )

    status: ConversationStatus | None = None
    assignee: str | None = Field(default=None, max_length=200)
    labels: list[Label] | None = Field(default=None, max_length=50)

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return sorted({label.strip() for label in value})


def message_json(message: Message, *, raw: bool = False) -> dict[str, Any]:
    return message.model_dump(mode="json", exclude=None if raw else {"raw"})


def _query(request: web.Request, model: type[Query]) -> Any:
    return parse_query(request, model)


def _page(items: list[dict[str, Any]], next_cursor: str | None) -> web.Response:
    return web.json_response({"items": items, "next_cursor": next_cursor})


async def list_conversations(request: web.Request) -> web.Response:
    query: ConversationQuery = _query(request, ConversationQuery)
    filters = {
        "status": query.status,
        "channel": channel_filter(principal_of(request), query.channel),
        "assignee": query.assignee,
        "contact_id": query.contact_id,
        "labels": query.label,
        "last_message_at": time_filter(query),
    }
    try:
        items, cursor = await request.app[HUB].store.list_conversations(
            filters, query.limit, query.cursor
        )
    except InvalidCursor as exc:
        raise BadRequest(str(exc), code="invalid_cursor") from exc
    return _page([c.model_dump(mode="json") for c in items], cursor)


class ConversationView(Conversation):
    """One conversation, with its contact's display name: all an agent may see of the
    contact (identities and email are behind the admin-only ``/contacts/{id}``)."""

    contact_name: str = ""


async def get_conversation(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    conversation = await hub.require_conversation(request.match_info["id"])
    contact = await hub.get_contact(conversation.contact_id)
    view = ConversationView(
        **conversation.model_dump(), contact_name=contact.name if contact is not None else ""
    )
    return web.json_response(view.model_dump(mode="json"))


async def list_conversation_messages(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    conversation = await hub.require_conversation(request.match_info["id"])
    query: Query = _query(request, Query)
    try:
        items, cursor = await hub.store.list_messages(
            {"conversation_id": conversation.id}, query.limit, query.cursor
        )
    except InvalidCursor as exc:
        raise BadRequest(str(exc), code="invalid_cursor") from exc
    return _page([message_json(m) for m in items], cursor)


async def list_messages(request: web.Request) -> web.Response:
    query: MessageQuery = _query(request, MessageQuery)
    filters: dict[str, Any] = {
        "channel": channel_filter(principal_of(request), query.channel),
        "direction": query.direction,
        "contact_id": query.contact_id,
        "created_at": time_filter(query),
    }
    if query.text is not None:
        filters["text"] = {"$regex": re.escape(query.text), "$options": "i"}
    try:
        items, cursor = await request.app[HUB].store.list_messages(
            filters, query.limit, query.cursor
        )
    except InvalidCursor as exc:
        raise BadRequest(str(exc), code="invalid_cursor") from exc
    return _page([message_json(m) for m in items], cursor)


async def get_message(request: web.Request) -> web.Response:
    message = await request.app[HUB].store.get_message(request.match_info["id"])
    if message is None:
        raise NotFound(f"message {request.match_info['id']} not found")
    return web.json_response(message_json(message, raw=True))


async def post_reply(request: web.Request) -> web.Response:
    body = await read_json(request, ReplyBody)
    principal = principal_of(request)
    author = Author(kind="agent", id=principal.subject, name=str(principal.claims.get("name", "")))
    message = await request.app[HUB].reply(
        request.match_info["id"],
        author,
        body.text,
        attachments=[Attachment.model_validate(a.model_dump()) for a in body.attachments],
        private=body.private,
        client_id=body.client_id,
    )
    return web.json_response(message_json(message), status=201)


async def patch_conversation(request: web.Request) -> web.Response:
    body = await read_json(request, ConversationPatch)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise BadRequest("nothing to change: give status, assignee or labels", code="empty_patch")
    if changes.get("status") is None and "status" in changes:
        raise BadRequest("status cannot be null", code="invalid_request")
    principal = principal_of(request)
    actor = Author(kind="agent", id=principal.subject, name=str(principal.claims.get("name", "")))
    conversation = await request.app[HUB].update_conversation(
        request.match_info["id"], changes, actor=actor
    )
    return web.json_response(conversation.model_dump(mode="json"))


async def get_contact(request: web.Request) -> web.Response:
    contact = await request.app[HUB].store.get_contact(request.match_info["id"])
    if contact is None:
        raise NotFound(f"contact {request.match_info['id']} not found")
    return web.json_response(contact.model_dump(mode="json"))


def register(routes: ApiRoutes) -> None:
    routes.add(
        "GET",
        "/conversations",
        list_conversations,
        roles=ANY_ROLE,
        summary="List conversations, most recent first",
        query=ConversationQuery,
        response=Page,
    )
    routes.add(
        "GET",
        "/conversations/{id}",
        get_conversation,
        roles=ANY_ROLE,
        summary="One conversation, with its contact's display name",
        response=ConversationView,
    )
    routes.add(
        "PATCH",
        "/conversations/{id}",
        patch_conversation,
        roles=ANY_ROLE,
        summary="Change status, assignee or labels",
        body=ConversationPatch,
        response=Conversation,
    )
    routes.add(
        "GET",
        "/conversations/{id}/messages",
        list_conversation_messages,
        roles=ANY_ROLE,
        summary="A conversation's messages, oldest first",
        query=Query,
        response=Page,
    )
    routes.add(
        "POST",
        "/conversations/{id}/messages",
        post_reply,
        roles=ANY_ROLE,
        summary="Reply (or add a private note) as the calling agent",
        body=ReplyBody,
        response=Message,
        status=201,
    )
    routes.add(
        "GET",
        "/messages",
        list_messages,
        roles=ANY_ROLE,
        summary="Messages across conversations, oldest first",
        query=MessageQuery,
        response=Page,
    )
    routes.add(
        "GET",
        "/messages/{id}",
        get_message,
        roles=ANY_ROLE,
        summary="One message with its raw platform payload",
        response=Message,
    )
    routes.add(
        "GET",
        "/contacts/{id}",
        get_contact,
        roles=ADMIN_ONLY,
        summary="One contact with its identities on each channel",
        response=Contact,
    )
