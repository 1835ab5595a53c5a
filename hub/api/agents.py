"""Agent endpoints. Today only linking an agent to a Slack user (``PATCH /agents/{id}``)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.api.routes import ADMIN_ONLY, ApiRoutes
from hub.errors import NotFound
from hub.http import read_json
from hub.state import HUB


class AgentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Slack user ids look like U0123ABCD (W… on Enterprise Grid); null unlinks. Required,
    # so an empty body is refused rather than read as an unlink.
    slack_user_id: str | None = Field(pattern=r"^[UW][A-Z0-9]{2,30}$")


async def patch_agent(request: web.Request) -> web.Response:
    body = await read_json(request, AgentPatch)
    hub = request.app[HUB]
    agent_id = request.match_info["id"]
    if await hub.agents.get(agent_id) is None:
        raise NotFound(f"agent {agent_id} not found")
    agent = await hub.link_slack_user(agent_id, body.slack_user_id)
    return web.json_response(agent.model_dump(mode="json"))


def register(routes: ApiRoutes) -> None:
    routes.add(
        "PATCH",
        "/agents/{id}",
        patch_agent,
        roles=ADMIN_ONLY,
        summary="Link an agent to a Slack user (slack_user_id; null unlinks)",
    )
