"""The inbox's contact panel: a contact's details (editable), other conversations, ratings.

Every inbox role may read the profile; admins and agents may change the name and notes,
and only admins the email (as only admins read it, on ``GET /contacts/{id}``). A caller
restricted to some channels sees only the conversations on those channels.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from hub.access.visibility import may_see
from hub.api.routes import ANY_ROLE, API_ROUTES, principal_of
from hub.domain import Channel, ConversationStatus
from hub.errors import BadRequest, Forbidden, NotFound
from hub.http.json_api import not_null, read_json
from hub.state import HUB, MONGO
from storage.contact_profiles import ContactProfiles

PROFILES = web.AppKey("contact_profiles", ContactProfiles)
# The most conversations a profile lists (newest first).
PROFILE_CONVERSATIONS = 20


class ContactPatch(BaseModel):
    # A patch names something to change (``empty_patch`` otherwise).
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=not_null(one_of=("name", "email", "notes"))
    )

    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    notes: str | None = Field(default=None, max_length=4000)


class ProfileConversation(BaseModel):
    id: str
    channel: Channel
    status: ConversationStatus
    last_message_at: datetime
    rating: int | None


class ContactProfile(BaseModel):
    id: str
    name: str
    notes: str
    email: str | None  # admins only; null for other roles
    conversations: list[ProfileConversation]


async def _profile(request: web.Request, contact_id: str) -> ContactProfile:
    hub = request.app[HUB]
    contact = await hub.get_contact(contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    principal = principal_of(request)
    profiles = request.app[PROFILES]
    conversations = [
        c
        for c in await profiles.conversations_of(contact.id, PROFILE_CONVERSATIONS)
        if may_see(principal, c, None)
    ]
    ratings = await profiles.ratings_of([c.id for c in conversations])
    return ContactProfile(
        id=contact.id,
        name=contact.name,
        notes=contact.notes,
        email=contact.email if principal.role == "admin" else None,
        conversations=[
            ProfileConversation(
                id=c.id,
                channel=c.channel,
                status=c.status,
                last_message_at=c.last_message_at,
                rating=ratings.get(c.id),
            )
            for c in conversations
        ],
    )


async def get_profile(request: web.Request) -> web.Response:
    profile = await _profile(request, request.match_info["id"])
    return web.json_response(profile.model_dump(mode="json"))


async def patch_contact(request: web.Request) -> web.Response:
    body = await read_json(request, ContactPatch)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise BadRequest("nothing to change: give name, email or notes", code="empty_patch")
    if "email" in changes and principal_of(request).role != "admin":
        raise Forbidden("only admins change a contact's email")
    if changes.get("name") is None:
        changes.pop("name", None)
    if changes.get("notes") is None:
        changes.pop("notes", None)
    contact_id = request.match_info["id"]
    if changes and await request.app[PROFILES].update(contact_id, changes) is None:
        raise NotFound(f"contact {contact_id} not found")
    profile = await _profile(request, contact_id)
    return web.json_response(profile.model_dump(mode="json"))


def setup(app: web.Application) -> None:
    app[PROFILES] = ContactProfiles(app[MONGO])
    routes = app[API_ROUTES]
    routes.add(
        "GET",
        "/contacts/{id}/profile",
        get_profile,
        roles=ANY_ROLE,
        summary="A contact's details, newest conversations and their ratings",
        response=ContactProfile,
    )
    routes.add(
        "PATCH",
        "/contacts/{id}",
        patch_contact,
        roles=ANY_ROLE,
        summary="Change a contact's name or notes (and, for admins, email)",
        body=ContactPatch,
        response=ContactProfile,
    )
