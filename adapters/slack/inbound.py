"""Slack message events into the hub: customers' DMs, and agents' replies in threads.

A direct message to the app (``channel_type: im``) is a customer writing: it becomes an
inbound message of a ``slack`` conversation answered in that DM channel. A reply in an
agent-channel thread linked to a conversation is an agent answering: it becomes the
conversation's outbound reply, authored by the agent the Slack user is linked to.
Bots (this app included) and other subtypes are ignored, so nothing loops; a customer's
edit or deletion in the DM updates the stored message, which keeps every earlier version.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.agent_view import AgentThreads
from adapters.slack.web_api import post_ephemeral
from hub.channels.port import HubPort
from hub.domain import Author, InboundMessage, Message
from hub.errors import BadRequest

log = logging.getLogger(__name__)

# Human messages: plain, with files, or a thread reply also sent to the channel.
HUMAN_SUBTYPES = {None, "file_share", "thread_broadcast"}
# A customer changing history: applied to the stored message, never stored as a new one.
HISTORY_SUBTYPES = {"message_changed", "message_deleted"}
NAME_LOOKUP_SECONDS = 1.0
NAME_CACHE_SIZE = 1024
UNKNOWN_AGENT_TEXT = (
    "Your Slack account is not linked to a Chorus agent, so this reply was not sent to "
    "the customer. Ask an admin to link you (slack.agents in the configuration, or "
    "PATCH /api/v1/agents/{id} with your slack_user_id)."
)

Spawn = Callable[[Awaitable[None]], object]


def is_human_message(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A message a person wrote: not a bot's, not our own, not an edit or deletion."""
    subtype = event.get("subtype")
    return (
        (subtype is None or isinstance(subtype, str))  # a malformed event is nobody's message
        and subtype in HUMAN_SUBTYPES
        and not event.get("bot_id")
        and bool(event.get("user"))
        and event.get("user") != bot_user_id
        and bool(event.get("ts"))
        and bool(event.get("channel"))
    )


class SlackInbound:
    """Turns one Slack message event into a stored message (or a refusal)."""

    def __init__(
        self, hub: HubPort, client: AsyncWebClient, threads: AgentThreads, spawn: Spawn
    ) -> None:
        self.hub = hub
        self.client = client
        self.threads = threads
        self.spawn = spawn
        self._names: dict[str, str] = {}

    async def on_message(self, event: dict[str, Any], bot_user_id: str | None) -> None:
        if event.get("channel_type") == "im" and event.get("subtype") in HISTORY_SUBTYPES:
            await self._history(event)
            return
        if not is_human_message(event, bot_user_id):
            return
        if event.get("channel_type") == "im":
            await self._from_customer(event)
            return
        thread_ts = event.get("thread_ts")
        if not thread_ts or thread_ts == event["ts"]:
            return  # a top-level message in some channel: not ours to handle
        conversation_id = await self.threads.conversation_for_thread(event["channel"], thread_ts)
        if conversation_id is not None:
            await self._from_agent(conversation_id, event)

    async def _history(self, event: dict[str, Any]) -> None:
        """A customer's edit or deletion in a DM: the stored message keeps every version.

        Only messages the hub stored (customers' DM messages) are touched; an edit of one
        never seen is not stored as new, since its original was not ours."""
        channel = event.get("channel")
        if not isinstance(channel, str):
            return
        if event.get("subtype") == "message_deleted":
            deleted_ts = event.get("deleted_ts")
            if isinstance(deleted_ts, str):
                await self.hub.delete_message("slack", f"{channel}:{deleted_ts}")
            return
        changed = event.get("message")
        if isinstance(changed, dict) and isinstance(changed.get("ts"), str):
            text = render.unescape(changed.get("text") or "")
            await self.hub.edit_message("slack", f"{channel}:{changed['ts']}", text, event)

    def _keep_files(self, message: Message, event: dict[str, Any]) -> None:
        """Fetch the event's files into the media store, after the message is stored."""
        files = event.get("files")
        if files and isinstance(files, list) and self.hub.media is not None:
            self.spawn(self.threads.files.keep(self.hub.media, message, files))

    async def _from_customer(self, event: dict[str, Any]) -> None:
        channel, user, ts = event["channel"], event["user"], event["ts"]
        result = await self.hub.receive(
            InboundMessage(
                channel="slack",
                external_id=f"{channel}:{ts}",
                sender_id=user,
                sender_name=await self._name_of(user),
                thread_key=channel,
                text=render.unescape(event.get("text") or ""),
                attachments=render.attachments_from_files(event.get("files") or ()),
                created_at=render.ts_to_datetime(ts),
                route={"channel": channel},
                raw=event,
            )
        )
        if not result.duplicate:
            self._keep_files(result.message, event)

    async def _from_agent(self, conversation_id: str, event: dict[str, Any]) -> None:
        channel, user, ts = event["channel"], event["user"], event["ts"]
        agent = await self.hub.agent_for("slack", user)
        if agent is None:
            log.info("reply from unlinked slack user refused", extra={"slack_user": user})
            explain = post_ephemeral(
                self.client, channel, user, UNKNOWN_AGENT_TEXT, thread_ts=event["thread_ts"]
            )
            self.spawn(explain)
            return
        try:
            message = await self.hub.reply(
                conversation_id,
                Author(kind="agent", id=agent.id, name=agent.name or agent.id),
                render.unescape(event.get("text") or ""),
                attachments=render.attachments_from_files(event.get("files") or ()),
                client_id=f"{render.THREAD_REPLY_PREFIX}{channel}:{ts}",
            )
        except BadRequest as exc:
            log.info("slack thread reply not stored", extra={"reason": exc.message})
            return
        self._keep_files(message, event)

    async def _name_of(self, user: str) -> str:
        """The Slack user's display name, best effort and cached: a name is not worth a delay."""
        if user in self._names:
            return self._names[user]
        try:
            response = await asyncio.wait_for(
                self.client.users_info(user=user), timeout=NAME_LOOKUP_SECONDS
            )
        except (SlackApiError, TimeoutError, aiohttp.ClientError) as exc:
            log.info("slack user name unknown", extra={"slack_user": user, "error": str(exc)})
            return ""
        profile = response.get("user") or {}
        name = str(
            profile.get("real_name") or (profile.get("profile") or {}).get("display_name") or ""
        )
        if len(self._names) >= NAME_CACHE_SIZE:
            self._names.clear()
        self._names[user] = name
        return name
