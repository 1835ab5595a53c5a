"""Privacy endpoints: a contact's export and erasure, legal holds, retention policy."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.api.routes import ADMIN_ONLY, API_ROUTES, principal_of
from hub.domain import utcnow
from hub.errors import NotFound
from hub.http.json_api import parse_query, read_json
from hub.privacy.requests import ContactErasure, ContactExport, PersonalDataHolder
from hub.runtime.logs import current_context
from hub.state import CONFIG, MONGO
from storage.archive_store import open_archive_store
from storage.audit import AuditLog
from storage.legal_holds import HoldKind, LegalHoldStore
from storage.mongo import Document

# What else keeps personal data (a media store appends itself here in its setup).
HOLDERS = web.AppKey("personal_data_holders", list[PersonalDataHolder])
EXPORT = web.AppKey("contact_export", ContactExport)
HOLDS = web.AppKey("legal_hold_store", LegalHoldStore)
AUDIT = web.AppKey("privacy_audit_log", AuditLog)


class EraseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)


class HoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: HoldKind
    target: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")
    reason: str = Field(min_length=3, max_length=500)


class LiftBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=500)


class HoldsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=1000)


def erasure_for(app: web.Application) -> ContactErasure:
    config = app[CONFIG]
    return ContactErasure(
        app[MONGO],
        open_archive_store(config.archive),
        backups_days=config.retention.backups_days,
        holders=app.get(HOLDERS, []),
    )


async def export_contact(request: web.Request) -> web.StreamResponse:
    export = request.app[EXPORT]
    contact = await export.contact(request.match_info["id"])
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="contact-{contact["_id"]}.json"',
        }
    )
    await response.prepare(request)
    async for chunk in export.stream(contact):
        await response.write(chunk)
    await response.write_eof()
    return response


async def erase_contact(request: web.Request) -> web.Response:
    body = await read_json(request, EraseBody)
    principal = principal_of(request)
    report = await erasure_for(request.app).erase(
        request.match_info["id"],
        by=principal.subject,
        role=principal.role,
        reason=body.reason,
        request_id=current_context().get("trace_id", ""),
    )
    return web.json_response(report.as_dict())


def _hold_view(doc: Document) -> dict[str, Any]:
    return {
        "kind": doc["kind"],
        "target": doc["target"],
        "by": doc["by"],
        "reason": doc["reason"],
        "at": doc["at"].isoformat(),
    }


async def _audit_hold(request: web.Request, action: str, doc: Document, reason: str) -> None:
    principal = principal_of(request)
    await request.app[AUDIT].record(
        who=principal.subject,
        role=principal.role,
        action=action,
        target={doc["kind"] + "_id": doc["target"]},
        status=200,
        request_id=current_context().get("trace_id", ""),
        detail={"reason": reason},
    )


async def place_hold(request: web.Request) -> web.Response:
    body = await read_json(request, HoldBody)
    holds = request.app[HOLDS]
    if not await holds.target_exists(body.kind, body.target):
        raise NotFound(f"{body.kind} {body.target} not found", code=f"{body.kind}_not_found")
    doc, created = await holds.place(
        body.kind,
        body.target,
        by=principal_of(request).subject,
        reason=body.reason,
        at=utcnow(),
    )
    if created:
        await _audit_hold(request, "place legal hold", doc, body.reason)
    return web.json_response(_hold_view(doc), status=201 if created else 200)


async def lift_hold(request: web.Request) -> web.Response:
    body = await read_json(request, LiftBody)
    kind = request.match_info["kind"]
    if kind not in ("contact", "conversation"):
        raise NotFound(f"no legal hold kind {kind}", code="hold_not_found")
    doc = await request.app[HOLDS].lift(kind, request.match_info["id"])  # type: ignore[arg-type]
    if doc is None:
        raise NotFound("no legal hold on that target", code="hold_not_found")
    await _audit_hold(request, "lift legal hold", doc, body.reason)
    return web.json_response({**_hold_view(doc), "lifted": True})


async def list_holds(request: web.Request) -> web.Response:
    query = parse_query(request, HoldsQuery)
    docs = await request.app[HOLDS].list(query.limit)
    return web.json_response({"holds": [_hold_view(d) for d in docs]})


async def get_retention(request: web.Request) -> web.Response:
    return web.json_response(request.app[CONFIG].retention.model_dump(mode="json"))


def setup(app: web.Application) -> None:
    routes = app[API_ROUTES]
    app.setdefault(HOLDERS, [])
    app[EXPORT] = ContactExport(app[MONGO], open_archive_store(app[CONFIG].archive))
    app[HOLDS] = LegalHoldStore(app[MONGO])
    app[AUDIT] = AuditLog(app[MONGO])
    routes.add(
        "GET",
        "/contacts/{id}/export",
        export_contact,
        roles=ADMIN_ONLY,
        audit=True,
        summary="Everything about a contact as one JSON document with SHA-256 manifest",
    )
    routes.add(
        "POST",
        "/contacts/{id}/erase",
        erase_contact,
        roles=ADMIN_ONLY,
        audit=False,
        body=EraseBody,
        summary="Erase a contact's personal data everywhere (409 legal_hold when held)",
    )
    routes.add(
        "GET",
        "/holds",
        list_holds,
        roles=ADMIN_ONLY,
        query=HoldsQuery,
        summary="Legal holds in force",
    )
    routes.add(
        "POST",
        "/holds",
        place_hold,
        roles=ADMIN_ONLY,
        body=HoldBody,
        status=201,
        audit=False,
        summary="Place a legal hold on a contact or conversation",
    )
    routes.add(
        "POST",
        "/holds/{kind}/{id}/lift",
        lift_hold,
        roles=ADMIN_ONLY,
        body=LiftBody,
        audit=False,
        summary="Lift a legal hold (admin)",
    )
    routes.add(
        "GET",
        "/retention",
        get_retention,
        roles=ADMIN_ONLY,
        summary="The retention policy in force",
    )
