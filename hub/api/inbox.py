"""API endpoints over conversations, messages and contacts."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.access.visibility import visible_channels
from hub.api.media import MAX_FILES, MessageView, attachments_json, keep_files, media_of, resolve
from hub.api.queries import QUERIES
from hub.api.routes import ADMIN_ONLY, ANY_ROLE, API_ROUTES, principal_of
from hub.api.schemas import VISIBLE_PATTERN, IdCursor, Label, Page, TimeCursor, Timestamp
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
from hub.errors import BadRequest
from hub.http.json_api import not_null, parse_model, parse_query, read_json
from hub.http.uploads import is_multipart, read_upload
from hub.state import HUB
from storage.filters import ConversationFilter, MessageFilter

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


def _hub_kept(schema: dict[str, Any]) -> None:
    for name in HUB_KEPT:
        schema["properties"][name] = {"type": "null", "default": None}


HUB_KEPT = ("storage_key", "thumbnail_key", "sha256")


class ReplyAttachment(Attachment):
    """An attachment as a reply names it: a link, or a stored file by its ``media_id``.
    Where the hub keeps a file is the hub's to say, so those fields are null if sent
    (anything else is refused as ``invalid_attachment``)."""

    model_config = ConfigDict(json_schema_extra=_hub_kept)


def _text_or_files(schema: dict[str, Any]) -> None:
    # A reply says something or carries a file (``empty_message`` otherwise).
    schema["anyOf"] = [
        {"required": ["text"], "properties": {"text": {"pattern": VISIBLE_PATTERN}}},
        {"required": ["attachments"], "properties": {"attachments": {"minItems": 1}}},
    ]


class ReplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_text_or_files)

    text: str = Field(default="", max_length=20_000)
    attachments: list[ReplyAttachment] = Field(default_factory=list, max_length=10)
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


def message_json(
    message: Message, *, raw: bool = False, request: web.Request | None = None
) -> dict[str, Any]:
    """A message as the API answers it; with ``request``, stored files get signed links
    (the caller was allowed to see the message)."""
    found = message.model_dump(mode="json", exclude=None if raw else {"raw"})
    if request is not None and message.attachments:
        found["attachments"] = attachments_json(request, message.attachments)
    return found


def _query(request: web.Request, model: type[Query]) -> Any:
    return parse_query(request, model)


def _page(items: list[dict[str, Any]], next_cursor: str | None) -> web.Response:
    return web.json_response({"items": items, "next_cursor": next_cursor})


async def list_conversations(request: web.Request) -> web.Response:
    query: ConversationQuery = _query(request, ConversationQuery)
    filters = ConversationFilter(
        status=query.status,
        channels=visible_channels(principal_of(request), query.channel),
        assignee=query.assignee,
        contact_id=query.contact_id,
        label=query.label,
        since=query.since,
        until=query.until,
    )
    items, cursor = await request.app[QUERIES].conversations(filters, query.limit, query.cursor)
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
    items, cursor = await request.app[QUERIES].messages(
        MessageFilter(conversation_id=conversation.id), query.limit, query.cursor
    )
    return _page([message_json(m, request=request) for m in items], cursor)


async def list_messages(request: web.Request) -> web.Response:
    query: MessageQuery = _query(request, MessageQuery)
    filters = MessageFilter(
        channels=visible_channels(principal_of(request), query.channel),
        direction=query.direction,
        contact_id=query.contact_id,
        text=query.text,
        since=query.since,
        until=query.until,
    )
    items, cursor = await request.app[QUERIES].messages(filters, query.limit, query.cursor)
    return _page([message_json(m, request=request) for m in items], cursor)


async def get_message(request: web.Request) -> web.Response:
    message = await request.app[QUERIES].message(request.match_info["id"])
    return web.json_response(message_json(message, raw=True, request=request))


class ReplyForm(BaseModel):
    """The reply as ``multipart/form-data``: text fields, and up to 10 parts named file."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=20_000)
    private: Literal["true", "false"] = "false"
    client_id: str | None = Field(default=None, min_length=1, max_length=100)
    file: list[bytes] = Field(default_factory=list, max_length=MAX_FILES)


async def _reply_body(request: web.Request) -> tuple[ReplyBody, list[Attachment]]:
    """The reply and the files it carries (checked and stored for the conversation)."""
    if not is_multipart(request):
        body = await read_json(request, ReplyBody)
        return body, await resolve(request, request.match_info["id"], body.attachments)
    conversation = await request.app[HUB].require_conversation(request.match_info["id"])
    upload = await read_upload(
        request, max_file_bytes=media_of(request).config.max_bytes, max_files=MAX_FILES
    )
    form = parse_model(ReplyForm, upload.fields)
    body = ReplyBody(text=form.text, private=form.private == "true", client_id=form.client_id)
    if not body.text.strip() and not upload.files:
        raise BadRequest("a reply needs text or an attachment", code="empty_message")
    return body, await keep_files(request, conversation.id, upload.files)


async def post_reply(request: web.Request) -> web.Response:
    body, attachments = await _reply_body(request)
    principal = principal_of(request)
    author = Author(kind="agent", id=principal.subject, name=str(principal.claims.get("name", "")))
    message = await request.app[HUB].reply(
        request.match_info["id"],
        author,
        body.text,
        attachments=attachments,
        private=body.private,
        client_id=body.client_id,
    )
    return web.json_response(message_json(message, request=request), status=201)


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
    contact = await request.app[QUERIES].contact(request.match_info["id"])
    return web.json_response(contact.model_dump(mode="json"))


def setup(app: web.Application) -> None:
    routes = app[API_ROUTES]
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
        summary="Reply (or add a private note) as the calling agent; files as multipart",
        body=ReplyBody,
        form=ReplyForm,
        response=MessageView,
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
        response=MessageView,
    )
    routes.add(
        "GET",
        "/contacts/{id}",
        get_contact,
        roles=ADMIN_ONLY,
        summary="One contact with its identities on each channel",
        response=Contact,
    )
