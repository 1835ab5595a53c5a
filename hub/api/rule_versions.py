"""Moderation rules' history: every stored version with who saved it and when, and a
rollback that puts an earlier version back in force (recorded like any replacement)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.api.comments import COMMENTS
from hub.api.routes import ADMIN_ONLY, ApiRoutes, principal_of
from hub.errors import Conflict, NotFound
from hub.http.json_api import read_json
from moderation import ModerationRules

MAX_VERSIONS = 200


class RuleVersion(BaseModel):
    version: str
    created_by: str
    created_at: str
    in_force: bool


class RuleVersionList(BaseModel):
    items: list[RuleVersion]


class RollbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=200)


async def list_versions(request: web.Request) -> web.Response:
    service = request.app[COMMENTS]
    in_force = (await service.rules.current()).version
    docs = await service.rule_versions(MAX_VERSIONS)
    items = [
        RuleVersion(
            version=str(doc["_id"]),
            created_by=str(doc.get("created_by", "")),
            created_at=doc["created_at"].isoformat(),
            in_force=doc["_id"] == in_force,
        )
        for doc in docs
    ]
    return web.json_response(RuleVersionList(items=items).model_dump(mode="json"))


async def rollback(request: web.Request) -> web.Response:
    body = await read_json(request, RollbackBody)
    service = request.app[COMMENTS]
    doc = await service.stored_rules(body.version)
    if doc is None or "rules" not in doc:
        raise NotFound(f"rules version {body.version} not found", code="version_not_found")
    try:
        rules = ModerationRules.model_validate(doc["rules"])
    except ValidationError as exc:
        raise Conflict("that version no longer validates", code="version_invalid") from exc
    version = await service.replace_rules(rules, principal_of(request).subject)
    return web.json_response({"version": version, "origin": "stored"})


def register(api: ApiRoutes) -> None:
    api.add(
        "GET",
        "/moderation/rules/versions",
        list_versions,
        roles=ADMIN_ONLY,
        summary="Stored rule versions, newest first, with who saved them and when",
        response=RuleVersionList,
    )
    api.add(
        "POST",
        "/moderation/rules/rollback",
        rollback,
        roles=ADMIN_ONLY,
        summary="Put an earlier rules version back in force",
        body=RollbackBody,
    )
