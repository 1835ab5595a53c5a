"""``/api/v1/agents``: who answers customers, whether they are online, how much they take."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.access.tokens import ACCESS
from hub.api.auth import LOGIN
from hub.api.queries import QUERIES
from hub.api.routes import ADMIN_ONLY, ANY_ROLE, API_ROUTES, principal_of
from hub.api.schemas import ItemList
from hub.bot.service import ROUTER
from hub.domain import Agent
from hub.errors import Conflict, Forbidden, NotFound
from hub.http.json_api import read_json
from hub.state import HUB


class StatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    online: bool


class CapacityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: int = Field(ge=0, le=1000)


def _agent_json(agent: Agent, load: int) -> dict[str, object]:
    return {**agent.model_dump(mode="json"), "load": load}


async def list_agents(request: web.Request) -> web.Response:
    agents = await request.app[HUB].agents.list()
    loads = await request.app[QUERIES].agent_loads()
    return web.json_response({"items": [_agent_json(a, loads.get(a.id, 0)) for a in agents]})


async def set_status(request: web.Request) -> web.Response:
    """Agents set their own presence; admins anyone's. Going online picks up waiting work."""
    agent_id = request.match_info["id"]
    principal = principal_of(request)
    if principal.role != "admin" and principal.subject != agent_id:
        raise Forbidden("agents may only set their own status")
    body = await read_json(request, StatusBody)
    known = await request.app[HUB].agents.get(agent_id)
    if body.online and known is not None and known.disabled:
        raise Conflict("a disabled agent cannot go online", code="agent_disabled")
    router = request.app[ROUTER]
    await router.set_agent_online(agent_id, body.online)
    agent = await request.app[HUB].agents.get(agent_id)
    assert agent is not None
    loads = await request.app[QUERIES].agent_loads()
    return web.json_response(_agent_json(agent, loads.get(agent_id, 0)))


async def set_capacity(request: web.Request) -> web.Response:
    body = await read_json(request, CapacityBody)
    router = request.app[ROUTER]
    agent = await request.app[HUB].agents.set_capacity(request.match_info["id"], body.capacity)
    if agent is None:
        raise NotFound(f"agent {request.match_info['id']} not found")
    await router.assign_waiting()
    loads = await request.app[QUERIES].agent_loads()
    return web.json_response(_agent_json(agent, loads.get(agent.id, 0)))


class SlackLinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Slack user ids look like U0123ABCD (W… on Enterprise Grid); null unlinks. Required,
    # so an empty body is refused rather than read as an unlink.
    slack_user_id: str | None = Field(pattern=r"^[UW][A-Z0-9]{2,30}$")


async def patch_agent(request: web.Request) -> web.Response:
    body = await read_json(request, SlackLinkBody)
    hub = request.app[HUB]
    agent_id = request.match_info["id"]
    if await hub.agents.get(agent_id) is None:
        raise NotFound(f"agent {agent_id} not found")
    agent = await hub.link_agent("slack", agent_id, body.slack_user_id)
    return web.json_response(agent.model_dump(mode="json"))


async def _set_disabled(request: web.Request, disabled: bool) -> web.Response:
    agent_id = request.match_info["id"]
    if disabled and principal_of(request).subject == agent_id:
        raise Conflict("you cannot disable yourself", code="self_disable")
    agent = await request.app[HUB].agents.set_disabled(agent_id, disabled)
    if agent is None:
        raise NotFound(f"agent {agent_id} not found")
    if disabled:
        await request.app[LOGIN].sessions.revoke_agent(agent_id)
        await request.app[ROUTER].set_agent_online(agent_id, False)
    request.app[ACCESS].forget()
    return web.json_response(agent.model_dump(mode="json"))


async def disable_agent(request: web.Request) -> web.Response:
    """Refuse the agent's logins, sessions and tokens from now on (see AccessCheck's delay)."""
    return await _set_disabled(request, True)


async def enable_agent(request: web.Request) -> web.Response:
    """Let a disabled agent log in again; their old sessions stay ended."""
    return await _set_disabled(request, False)


def setup(app: web.Application) -> None:
    routes = app[API_ROUTES]
    routes.add(
        "GET",
        "/agents",
        list_agents,
        roles=ANY_ROLE,
        summary="Agents with presence and load",
        response=ItemList,
    )
    routes.add(
        "PATCH",
        "/agents/{id}",
        patch_agent,
        roles=ADMIN_ONLY,
        summary="Link an agent to a Slack user (slack_user_id; null unlinks)",
        body=SlackLinkBody,
        response=Agent,
    )
    for verb, handler in (("disable", disable_agent), ("enable", enable_agent)):
        routes.add(
            "POST",
            f"/agents/{{id}}/{verb}",
            handler,
            roles=ADMIN_ONLY,
            summary=f"{verb.capitalize()} an agent's logins, sessions and tokens",
            response=Agent,
        )
    routes.add(
        "PUT",
        "/agents/{id}/status",
        set_status,
        roles=ANY_ROLE,
        summary="Set an agent online or offline",
        body=StatusBody,
    )
    routes.add(
        "PUT",
        "/agents/{id}/capacity",
        set_capacity,
        roles=ADMIN_ONLY,
        summary="Set how many active conversations an agent takes",
        body=CapacityBody,
    )
