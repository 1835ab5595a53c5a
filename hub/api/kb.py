"""``/api/v1/kb``: the bot's knowledge base, edited by admins; the bot re-indexes at once."""

from __future__ import annotations

import re
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.api.routes import ADMIN_ONLY, API_ROUTES
from hub.api.schemas import ItemList, Visible
from hub.bot.service import BOT
from hub.domain import ENTRY_ID, KnowledgeEntry, Link
from hub.errors import BadRequest, Conflict, NotFound
from hub.http.json_api import parse_model, parse_query, read_json
from storage.kb import EntryExists


class EntryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[Annotated[Visible, StringConstraints(max_length=500)]] = Field(
        min_length=1, max_length=50
    )
    answer: str = Field(min_length=1, max_length=4000)
    links: list[Link] = Field(default_factory=list, max_length=10)


class NewEntryBody(EntryBody):
    id: str = Field(pattern=ENTRY_ID)


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1, max_length=2000)
    limit: int = Field(default=3, ge=1, le=20)


def _entry(entry_id: str, body: EntryBody) -> KnowledgeEntry:
    if any(not q.strip() or len(q) > 500 for q in body.questions):
        raise BadRequest("questions are 1 to 500 characters", code="invalid_request")
    return parse_model(
        KnowledgeEntry,
        {"id": entry_id, "questions": body.questions, "answer": body.answer, "links": body.links},
    )


async def list_entries(request: web.Request) -> web.Response:
    entries = await request.app[BOT].kb.all()
    return web.json_response({"items": [e.model_dump(mode="json") for e in entries]})


async def get_entry(request: web.Request) -> web.Response:
    entry = await request.app[BOT].kb.get(request.match_info["id"])
    if entry is None:
        raise NotFound(f"knowledge entry {request.match_info['id']} not found")
    return web.json_response(entry.model_dump(mode="json"))


async def create_entry(request: web.Request) -> web.Response:
    body = await read_json(request, NewEntryBody)
    bot = request.app[BOT]
    try:
        entry = await bot.kb.create(_entry(body.id, body))
    except EntryExists as exc:
        raise Conflict(f"knowledge entry {body.id} exists", code="entry_exists") from exc
    await bot.reload()
    return web.json_response(entry.model_dump(mode="json"), status=201)


async def replace_entry(request: web.Request) -> web.Response:
    body = await read_json(request, EntryBody)
    if not re.fullmatch(ENTRY_ID, request.match_info["id"]):
        # No entry can have such an id, so there is none to replace.
        raise NotFound(f"knowledge entry {request.match_info['id']} not found")
    bot = request.app[BOT]
    entry = await bot.kb.replace(_entry(request.match_info["id"], body))
    if entry is None:
        raise NotFound(f"knowledge entry {request.match_info['id']} not found")
    await bot.reload()
    return web.json_response(entry.model_dump(mode="json"))


async def delete_entry(request: web.Request) -> web.Response:
    bot = request.app[BOT]
    if not await bot.kb.delete(request.match_info["id"]):
        raise NotFound(f"knowledge entry {request.match_info['id']} not found")
    await bot.reload()
    return web.Response(status=204)


async def search(request: web.Request) -> web.Response:
    query = parse_query(request, SearchQuery)
    bot = request.app[BOT]
    matches = bot.index.search(query.q, query.limit)
    threshold = bot.config.confidence_threshold
    return web.json_response(
        {
            "threshold": threshold,
            "items": [
                {
                    "id": m.entry.id,
                    "question": m.question,
                    "score": round(m.score, 4),
                    "confidence": round(m.confidence, 4),
                    "answers": m.confidence >= threshold,
                }
                for m in matches
            ],
        }
    )


def setup(app: web.Application) -> None:
    routes = app[API_ROUTES]
    routes.add(
        "GET",
        "/kb",
        list_entries,
        roles=ADMIN_ONLY,
        summary="Knowledge base entries",
        response=ItemList,
    )
    routes.add(
        "POST",
        "/kb",
        create_entry,
        roles=ADMIN_ONLY,
        summary="Add a knowledge entry",
        body=NewEntryBody,
        response=KnowledgeEntry,
        status=201,
    )
    routes.add(
        "GET",
        "/kb/search",
        search,
        roles=ADMIN_ONLY,
        summary="Try the bot's matching on a question",
        query=SearchQuery,
    )
    routes.add(
        "GET",
        "/kb/{id}",
        get_entry,
        roles=ADMIN_ONLY,
        summary="One knowledge entry",
        response=KnowledgeEntry,
    )
    routes.add(
        "PUT",
        "/kb/{id}",
        replace_entry,
        roles=ADMIN_ONLY,
        summary="Replace a knowledge entry",
        body=EntryBody,
        response=KnowledgeEntry,
    )
    routes.add(
        "DELETE",
        "/kb/{id}",
        delete_entry,
        roles=ADMIN_ONLY,
        summary="Delete a knowledge entry",
        status=204,
    )
