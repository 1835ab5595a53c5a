"""Agents managed from the browser: add one with a first password, change their role.

The rest of an agent's settings (capacity, Slack link, disable and enable) live in
``hub.api.agents``; these two complete what ``chorus agent add`` does from the CLI.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.access.tokens import ACCESS
from hub.api.auth import LOGIN, hash_password
from hub.api.routes import ADMIN_ONLY, API_ROUTES, ApiRoutes, principal_of
from hub.core.addresses import AccountEmail
from hub.domain import Agent, agent_id_for
from hub.errors import Conflict, NotFound
from hub.http.json_api import read_json
from hub.state import MONGO
from storage.agents import AgentStore

MIN_PASSWORD = 12
AGENTS = web.AppKey("agent_admin_store", AgentStore)


class NewAgentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: AccountEmail
    name: str = Field(default="", max_length=200)
    role: Literal["admin", "agent"] = "agent"
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024)
    capacity: int = Field(default=5, ge=0, le=1000)


class RoleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "agent"]


async def add_agent(request: web.Request) -> web.Response:
    """Create an agent who can log in at once with the given first password."""
    body = await read_json(request, NewAgentBody)
    store = request.app[AGENTS]
    email = str(body.email).strip().lower()
    if await store.credentials(email) is not None:
        raise Conflict(f"an agent already has the email {email}", code="email_taken")
    agent_id = base = agent_id_for(email)
    suffix = 1
    while await store.get(agent_id) is not None:
        suffix += 1
        agent_id = f"{base}-{suffix}"
    agent = await store.upsert(
        agent_id, {"email": email, "name": body.name, "role": body.role, "capacity": body.capacity}
    )
    await store.set_password_hash(agent.id, await asyncio.to_thread(hash_password, body.password))
    return web.json_response(agent.model_dump(mode="json"), status=201)


async def set_role(request: web.Request) -> web.Response:
    """Change an agent's role; their sessions end so that new tokens carry the new role."""
    body = await read_json(request, RoleBody)
    agent_id = request.match_info["id"]
    if principal_of(request).subject == agent_id and body.role != "admin":
        raise Conflict("you cannot take away your own admin role", code="self_demote")
    store = request.app[AGENTS]
    if await store.get(agent_id) is None:
        raise NotFound(f"agent {agent_id} not found")
    agent = await store.upsert(agent_id, {"role": body.role})
    await request.app[LOGIN].sessions.revoke_agent(agent_id)
    request.app[ACCESS].forget()
    return web.json_response(agent.model_dump(mode="json"))


def setup(app: web.Application) -> None:
    app[AGENTS] = AgentStore(app[MONGO])
    register(app[API_ROUTES])


def register(routes: ApiRoutes) -> None:
    routes.add(
        "POST",
        "/agents",
        add_agent,
        roles=ADMIN_ONLY,
        summary="Add an agent with a first password (at least 12 characters)",
        body=NewAgentBody,
        response=Agent,
        status=201,
    )
    routes.add(
        "PUT",
        "/agents/{id}/role",
        set_role,
        roles=ADMIN_ONLY,
        summary="Change an agent's role (their sessions end)",
        body=RoleBody,
        response=Agent,
    )
