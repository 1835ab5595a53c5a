"""Fan-out of replies across hub instances, riding on a MongoDB change stream.

A customer's socket lives on one instance; the agent's reply may be stored through any
other. Each instance watches inserts of outbound, non-private messages on the channels
whose adapters declare they push live (``Capability.LIVE``) and hands them to its own sockets, so
every instance pushes each reply to the clients connected to it, once, with no broker.
Delivery to platforms stays with the outbox, whose lease sends each message once.

With ``sync.fanout: local`` (one process, or a server without change streams) the same
delivery is driven by the in-process event bus instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from aiohttp import web
from pymongo.asynchronous.change_stream import AsyncChangeStream
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from hub.channels import Capability, ChannelSet, LiveDelivery
from hub.core import Hub
from hub.domain import Channel, Message
from hub.events import InboxEvent
from hub.outbox import outbound_for
from hub.state import CHANNELS, CONFIG, HUB, MONGO
from storage.changes import open_stream
from storage.message_docs import message_from_doc

log = logging.getLogger(__name__)

Document = dict[str, Any]
RETRY_SECONDS = 1.0


class ReplyFanout:
    """Delivers every new reply to the live-delivery adapters of this instance."""

    def __init__(
        self,
        hub: Hub,
        db: AsyncDatabase[Document],
        channels: ChannelSet,
        mode: str = "change_stream",
    ) -> None:
        self.hub = hub
        self.db = db
        # The channels that declared they push live (``Capability.LIVE``).
        self.targets: dict[Channel, LiveDelivery] = {
            adapter.channel: cast(LiveDelivery, adapter)
            for adapter in channels.able(Capability.LIVE)
        }
        self.mode = mode
        self._task: asyncio.Task[None] | None = None

    def _pipeline(self) -> list[Document]:
        return [
            {
                "$match": {
                    "operationType": "insert",
                    "ns.coll": "messages",
                    "fullDocument.direction": "outbound",
                    "fullDocument.private": False,
                    "fullDocument.channel": {"$in": sorted(self.targets)},
                }
            }
        ]

    async def start(self) -> None:
        """Begin watching; returns once the stream is open, so no later reply is missed."""
        if not self.targets:
            return
        if self.mode == "local":
            self.hub.subscribe(self._on_event)
            return
        stream = await open_stream(self.db, self._pipeline(), None, max_await_ms=500)
        self._task = asyncio.get_running_loop().create_task(self._tail(stream), name="fanout")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _tail(self, stream: AsyncChangeStream[Document]) -> None:
        while True:
            try:
                async with stream:
                    async for event in stream:
                        await self.deliver(message_from_doc(event["fullDocument"]))
            except PyMongoError as exc:
                # The driver resumes on its own after transient errors; this is the rest.
                log.warning("reply fan-out stream failed", extra={"error": str(exc)})
            token = stream.resume_token
            while True:
                await asyncio.sleep(RETRY_SECONDS)
                try:
                    stream = await open_stream(self.db, self._pipeline(), token, max_await_ms=500)
                    break
                except Exception as exc:  # an expired token: live pushes resume from now
                    log.warning("reply fan-out cannot resume", extra={"error": str(exc)})
                    token = None

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
    fanout = ReplyFanout(app[HUB], app[MONGO].db, app[CHANNELS], app[CONFIG].sync.fanout)
    await fanout.start()
    yield
    await fanout.stop()
