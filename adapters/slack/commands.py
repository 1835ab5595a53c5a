"""What agents do from Slack besides replying: the Claim and Resolve buttons, ``/chorus``.

Only Slack users linked to a hub agent may act; anyone else is told so privately. The
header refresh after a change is the agent view's job (it hears the conversation event).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.web_api import post_ephemeral
from hub.channels.port import HubPort
from hub.domain import Agent
from hub.errors import ChorusError

log = logging.getLogger(__name__)

Respond = Callable[[str], Awaitable[object]]
LIST_LIMIT = 20
USAGE = (
    "`/chorus` or `/chorus list`: open conversations\n"
    "`/chorus assign <conversation id> @agent`: assign a conversation"
)
NOT_AN_AGENT = (
    "Your Slack account is not linked to a Chorus agent. Ask an admin to link you "
    "(slack.agents in the configuration, or PATCH /api/v1/agents/{id})."
)
# "<@U123|name>" when Slack escapes the mention, "<@U123>" without a name.
MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


class AgentCommands:
    """Claim, Resolve and the ``/chorus`` slash command."""

    def __init__(self, hub: HubPort, client: AsyncWebClient) -> None:
        self.hub = hub
        self.client = client

    async def on_button(
        self, action_id: str, conversation_id: str, user: str, channel: str
    ) -> None:
        agent = await self.hub.agent_for("slack", user)
        if agent is None:
            await post_ephemeral(self.client, channel, user, NOT_AN_AGENT)
            return
        changes = (
            {"assignee": agent.id} if action_id == render.CLAIM_ACTION else {"status": "resolved"}
        )
        try:
            await self.hub.update_conversation(conversation_id, changes)
        except ChorusError as exc:
            await post_ephemeral(
                self.client, channel, user, f"Not done: {render.escape(exc.message)}"
            )
            return
        log.info(
            "slack button applied",
            extra={"conversation_id": conversation_id, "action": action_id, "agent": agent.id},
        )

    async def on_command(self, text: str, user: str, respond: Respond) -> None:
        agent = await self.hub.agent_for("slack", user)
        if agent is None:
            await respond(NOT_AN_AGENT)
            return
        words = text.split()
        if not words or words[0] == "list":
            await respond(await self._list())
        elif words[0] == "assign" and len(words) == 3:
            await respond(await self._assign(words[1], words[2]))
        else:
            await respond(USAGE)

    async def _list(self) -> str:
        conversations = await self.hub.conversations_with_status("open", LIST_LIMIT)
        if not conversations:
            return "No open conversations."
        lines = []
        for conversation in conversations:
            contact = await self.hub.get_contact(conversation.contact_id)
            name = render.escape(contact.name if contact and contact.name else "Unknown customer")
            assignee = render.escape(conversation.assignee or "unassigned")
            lines.append(f"`{conversation.id}` {name} on {conversation.channel} · {assignee}")
        return "Open conversations:\n" + "\n".join(lines)

    async def _assign(self, conversation_id: str, who: str) -> str:
        agent = await self._agent_named(who)
        if agent is None:
            return f"{render.escape(who)} is not linked to a Chorus agent."
        try:
            await self.hub.update_conversation(conversation_id, {"assignee": agent.id})
        except ChorusError as exc:
            return f"Not done: {render.escape(exc.message)}"
        return (
            f"Conversation `{render.escape(conversation_id)}` is assigned to "
            f"{render.escape(agent.id)}."
        )

    async def _agent_named(self, who: str) -> Agent | None:
        match = MENTION.match(who)
        return await self.hub.agent_for("slack", match.group(1)) if match else None
