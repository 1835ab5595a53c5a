"""Fan-out of replies across hub instances, riding on a MongoDB change stream.

A customer's socket lives on one instance; the agent's reply may be stored through any
other. Each instance watches inserts of outbound, non-private messages on the channels
whose adapters declare they push live (``Capability.LIVE``) and hands them to its own sockets, so
every instance pushes each reply to the clients connected to it, once, with no broker.
The instance that stored a reply pushes it at once, from the inbox event that carries its
conversation, and skips it when the change stream brings it back.
Delivery to platforms stays with the outbox, whose lease sends each message once.

With ``sync.fanout: local`` (one process, or a server without change streams) the same
delivery is driven by the in-process event bus instead.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any, cast

from aiohttp import web

from hub.channels.port import Capability, ChannelSet, LiveDelivery
from hub.core.hub import Hub
from hub.core.outbox import outbound_for
from hub.domain import Channel, Conversation, Message
from hub.errors import StorageError
from hub.runtime.background import BackgroundLoop
from hub.runtime.events import InboxEvent
from hub.state import CHANGE_FEED, CHANNELS, CONFIG, HUB
from storage.change_feed import ChangeFeed
from storage.reply_stream import ReplyStream

log = logging.getLogger(__name__)

Document = dict[str, Any]
RETRY_SECONDS = 1.0
SEEN_LIMIT = 10_000


class ReplyFanout:
    """Delivers every new reply to the live-delivery adapters of this instance."""

    def __init__(
        self,
        hub: Hub,
        feed: ChangeFeed,
        channels: ChannelSet,
        mode: str = "change_stream",
    ) -> None:
        self.hub = hub
        # The channels that declared they push live (``Capability.LIVE``).
        self.targets: dict[Channel, LiveDelivery] = {
            adapter.channel: cast(LiveDelivery, adapter)
            for adapter in channels.able(Capability.LIVE)
        }
        self.replies = ReplyStream(feed, self.targets)
        self.mode = mode
        self._open = False
        self._loop = BackgroundLoop(
            "reply fan-out",
            self._tail,
            interval=RETRY_SECONDS,
            max_retry=30 * RETRY_SECONDS,
            expected=(StorageError,),
            logger=log,
        )
        # Replies pushed by one path (this process's event, or the change stream) and not
        # seen by the other yet: the second sighting is skipped, so each is pushed once.
        self._seen: OrderedDict[str, None] = OrderedDict()
        # Conversations of other instances' replies: who receives them never changes.
        self._recipients: OrderedDict[str, Conversation] = OrderedDict()

    async def start(self) -> None:
        """Begin watching; returns once the stream is open, so no later reply is missed."""
        if not self.targets:
            return
        # This process's own replies are pushed at once from the event that carries their
        # conversation; the change stream brings the other instances'.
        self.hub.subscribe(self._on_event)
        if self.mode == "local":
            return
        await self.replies.open()
        self._open = True
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _tail(self) -> None:
        """Deliver from the stream until it fails; the loop's retry reopens it after the
        last reply read (the driver resumes by itself after transient errors; this is the
        rest), or from now when that position is gone."""
        if not self._open:
            await self.replies.reopen()
            self._open = True
        try:
            async for message in self.replies.replies():
                await self.deliver(message)
        finally:
            self._open = False

    async def _on_event(self, event: InboxEvent) -> None:
        message = event.message
        if (
            event.kind == "message"
            and message is not None
            and message.direction == "outbound"
            and not message.private
            and (self.mode == "local" or self._first_sighting(message.id))
        ):
            self._push(message, event.conversation)

    def _first_sighting(self, message_id: str) -> bool:
        if message_id in self._seen:
            del self._seen[message_id]
            return False
        self._seen[message_id] = None
        while len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        return True

    async def deliver(self, message: Message) -> int:
        """Push a reply the change stream brought (unless this process pushed it already)."""
        if message.channel not in self.targets or not self._first_sighting(message.id):
            return 0
        conversation = self._recipients.get(message.conversation_id)
        if conversation is None:
            conversation = self.hub.known_conversation(message.conversation_id)
        if conversation is None:
            conversation = await self.hub.store.get_conversation(message.conversation_id)
            if conversation is None:
                return 0
            self._recipients[conversation.id] = conversation
            while len(self._recipients) > SEEN_LIMIT:
                self._recipients.popitem(last=False)
        return self._push(message, conversation)

    def _push(self, message: Message, conversation: Conversation) -> int:
        target = self.targets.get(message.channel)
        if target is None:
            return 0
        return target.push_live(outbound_for(message, conversation))


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(fanout_context)


async def fanout_context(app: web.Application) -> AsyncIterator[None]:
    """Run this instance's reply fan-out for the app's lifetime."""
    fanout = ReplyFanout(app[HUB], app[CHANGE_FEED], app[CHANNELS], app[CONFIG].sync.fanout)
    await fanout.start()
    yield
    await fanout.stop()
