"""Fan-out of replies across hub instances, riding on a MongoDB change stream.

A customer's socket lives on one instance; the agent's reply may be stored through any
other. Each instance watches inserts of outbound, non-private messages on the channels
whose adapters can push live (``LiveDelivery``) and hands them to its own sockets, so
every instance pushes each reply to the clients connected to it, once, with no broker.
Delivery to platforms stays with the outbox, whose lease sends each message once.

With ``sync.fanout: local`` (one process, or a server without change streams) the same
delivery is driven by the in-process event bus instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol, runtime_checkable

from aiohttp import web

from hub.channels import ChannelAdapter
from hub.core import Hub
from hub.domain import Channel, Message, OutboundMessage
from hub.errors import StorageError
from hub.events import InboxEvent
from hub.outbox import outbound_for
from hub.state import ADAPTERS, CONFIG, HUB, MONGO
from storage.mongo import MongoStore
from storage.reply_stream import ReplyStream

log = logging.getLogger(__name__)

Document = dict[str, Any]
RETRY_SECONDS = 1.0


@runtime_checkable
class LiveDelivery(Protocol):
    """An adapter that pushes stored replies to clients connected to this process."""

    channel: Channel

    def push_live(self, outbound: OutboundMessage) -> int:
        """Queue ``outbound`` to the recipient's local sockets; returns how many."""
        ...


class ReplyFanout:
    """Delivers every new reply to the live-delivery adapters of this instance."""

    def __init__(
        self,
        hub: Hub,
        mongo: MongoStore,
        adapters: Mapping[Channel, ChannelAdapter],
        mode: str = "change_stream",
    ) -> None:
        self.hub = hub
        self.targets: dict[Channel, LiveDelivery] = {
            channel: adapter
            for channel, adapter in adapters.items()
            if isinstance(adapter, LiveDelivery)
        }
        self.replies = ReplyStream(mongo, self.targets)
        self.mode = mode
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin watching; returns once the stream is open, so no later reply is missed."""
        if not self.targets:
            return
        if self.mode == "local":
            self.hub.subscribe(self._on_event)
            return
        await self.replies.open()
        self._task = asyncio.get_running_loop().create_task(self._tail(), name="fanout")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _tail(self) -> None:
        while True:
            try:
                async for message in self.replies.replies():
                    await self.deliver(message)
            except StorageError as exc:
                # The driver resumes on its own after transient errors; this is the rest.
                log.warning("reply fan-out stream failed", extra={"error": str(exc.__cause__)})
            while True:
                await asyncio.sleep(RETRY_SECONDS)
                try:
                    await self.replies.reopen()
                    break
                except Exception as exc:  # an expired token: live pushes resume from now
                    log.warning("reply fan-out cannot resume", extra={"error": str(exc)})

    async def _on_event(self, event: InboxEvent) -> None:
        message = event.message
        if (
            event.kind == "message"
            and message is not None
            and message.direction == "outbound"
            and not message.private
        ):
            await self.deliver(message)

    async def deliver(self, message: Message) -> int:
        target = self.targets.get(message.channel)
        if target is None:
            return 0
        conversation = await self.hub.store.get_conversation(message.conversation_id)
        if conversation is None:
            return 0
        outbound = outbound_for(message, conversation)
        return target.push_live(outbound)


async def fanout_context(app: web.Application) -> AsyncIterator[None]:
    """Run this instance's reply fan-out for the app's lifetime."""
    adapters: dict[Channel, ChannelAdapter] = app[ADAPTERS]
    fanout = ReplyFanout(app[HUB], app[MONGO], adapters, app[CONFIG].sync.fanout)
    await fanout.start()
    yield
    await fanout.stop()
