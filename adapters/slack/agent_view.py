"""The agents' view in Slack: one thread per conversation handed to humans.

Listens to inbox events. When a conversation is handed to humans (status ``open``), or
at once when ``mirror_all`` is on, it posts a header in the agent channel and stores the
thread ↔ conversation link; later messages and replies are mirrored into that thread and
conversation changes refresh the header. Mirroring is not delivery: a mirror that fails
is logged, never retried by the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import OrderedDict

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.config import SlackConfig
from adapters.slack.files import SlackFiles, upload_quietly
from hub.channels.port import HubPort
from hub.domain import Conversation, Message
from hub.runtime.events import InboxEvent

log = logging.getLogger(__name__)

THREAD = "thread"
THREAD_CACHE = 10_000


class AgentThreads:
    """Posts, mirrors into and refreshes the agent-channel thread of each conversation."""

    def __init__(self, hub: HubPort, client: AsyncWebClient, config: SlackConfig) -> None:
        self.hub = hub
        self.client = client
        self.config = config
        self.files = SlackFiles(client, config.api_base_url, config.request_timeout_seconds)
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Threads by conversation: a conversation's thread is its first link and links are
        # only ever added, so a thread once found never changes (not finding one is not
        # remembered: another process may open it).
        self._threads: OrderedDict[str, tuple[str, str]] = OrderedDict()

    async def conversation_for_thread(self, channel: str, thread_ts: str) -> str | None:
        key = render.thread_key(channel, thread_ts)
        return await self.hub.channel_state.conversation_for("slack", THREAD, key)

    async def thread_of(self, conversation_id: str) -> tuple[str, str] | None:
        """The (channel, ts) of the conversation's header, if it has one."""
        thread = self._threads.get(conversation_id)
        if thread is not None:
            self._threads.move_to_end(conversation_id)
            return thread
        keys = await self.hub.channel_state.keys_for(conversation_id, "slack", THREAD)
        if not keys:
            return None
        channel, _, ts = keys[0].partition(":")
        self._threads[conversation_id] = (channel, ts)
        while len(self._threads) > THREAD_CACHE:
            self._threads.popitem(last=False)
        return channel, ts

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        # One conversation's header and mirrors go out one at a time, in event order.
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    async def on_inbox_event(self, event: InboxEvent) -> None:
        """The hub's event listener."""
        conversation = event.conversation
        async with self._lock(conversation.id):
            thread = await self.thread_of(conversation.id)
            if event.kind == "conversation":
                if thread is not None:
                    await self._refresh_header(conversation, thread)
                elif conversation.status == "open":
                    await self._post_header(conversation)
            elif event.message is not None and event.kind != "message_files":
                # A fetched file changes no line of the thread; its text was mirrored.
                if thread is not None:
                    await self._mirror(conversation, event.message, thread)
                elif self.config.mirror_all and event.new_conversation:
                    await self._post_header(conversation)

    async def _header(self, conversation: Conversation) -> tuple[str, list[dict[str, object]]]:
        contact = await self.hub.get_contact(conversation.contact_id)
        recent = await self.hub.recent_messages(conversation.id, render.HEADER_MESSAGES)
        return render.header(conversation, contact.name if contact else "", recent)

    async def _post_header(self, conversation: Conversation) -> None:
        # The sighting is a claim across hub processes: only one posts the header.
        claim = f"header:{conversation.id}"
        if not await self.hub.channel_state.first_sighting("slack", claim):
            return
        try:
            text, blocks = await self._header(conversation)
            response = await self.client.chat_postMessage(
                channel=self.config.agent_channel, text=text, blocks=blocks
            )
            key = render.thread_key(str(response["channel"]), str(response["ts"]))
            await self.hub.channel_state.link(conversation.id, "slack", THREAD, key)
        except Exception:
            await self.hub.channel_state.forget_sighting("slack", claim)
            raise
        log.info("slack thread opened", extra={"conversation_id": conversation.id})

    async def _refresh_header(self, conversation: Conversation, thread: tuple[str, str]) -> None:
        text, blocks = await self._header(conversation)
        channel, ts = thread
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning(
                "slack header not updated",
                extra={"conversation_id": conversation.id, "error": exc.response.get("error")},
            )

    async def _mirror(
        self, conversation: Conversation, message: Message, thread: tuple[str, str]
    ) -> None:
        if (message.client_id or "").startswith(render.THREAD_REPLY_PREFIX):
            return  # written in this very thread: mirroring it would echo
        # A customer's message carries the contact's name as stored with it; no other
        # line names the customer, so mirroring reads no contact.
        customer = message.author.name if message.author.kind == "contact" else ""
        channel, ts = thread
        try:
            await self.client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                text=render.mirror_line(message, customer),
                unfurl_links=False,
            )
        except SlackApiError as exc:
            log.warning(
                "slack mirror failed",
                extra={"message_id": message.id, "error": exc.response.get("error")},
            )
            return
        await upload_quietly(self.files, self.hub.media, message.attachments, channel, ts)
