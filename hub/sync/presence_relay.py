"""Presence across hub instances: typing and read receipts ride a MongoDB change stream.

A customer's socket lives on one instance and the agent's inbox on another. Each instance
writes the signals it publishes (a customer typing, a read receipt moving forward, an
agent typing) to ``presence_signals``, where a TTL index drops them after a minute, and
watches the inserts: a signal from another instance goes to this instance's listeners
(the agents' feed; for an agent typing, the channels that show it on this instance's
customer sockets). Its own signals it has handled already, in process, and skips.

A signal carries the conversation as it was, so no instance reads it again. With
``sync.fanout: local`` (one process, or a server without change streams) nothing is
written or watched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from hub.domain import Author, Conversation, utcnow
from hub.errors import StorageError
from hub.runtime.background import BackgroundLoop
from hub.runtime.presence import Presence, PresenceSignal
from hub.state import CHANGE_FEED, CONFIG, HUB, MONGO
from storage.presence import PresenceSignals

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class PresenceRelay:
    """Shares this instance's presence signals and delivers the other instances'."""

    def __init__(self, presence: Presence, signals: PresenceSignals) -> None:
        self.presence = presence
        self.signals = signals
        self.origin = uuid.uuid4().hex  # this instance, for the lifetime of the process
        self._open = False
        self._loop = BackgroundLoop(
            "presence relay",
            self._tail,
            interval=RETRY_SECONDS,
            max_retry=30 * RETRY_SECONDS,
            expected=(StorageError,),
            logger=log,
        )

    async def start(self) -> None:
        """Begin watching (returns once the stream is open), then begin sharing."""
        await self.signals.open()
        self._open = True
        self._loop.start()
        self.presence.relay = self.share

    async def stop(self) -> None:
        self.presence.relay = None
        await self._loop.stop()

    async def share(self, signal: PresenceSignal) -> None:
        """Write a signal for the other instances; a failure loses only this signal."""
        doc: dict[str, Any] = {
            "origin": self.origin,
            "kind": signal.kind,
            "conversation": signal.conversation.model_dump(),
            "author": signal.author.model_dump() if signal.author else None,
            "at": utcnow(),
        }
        try:
            await self.signals.share(doc)
        except StorageError:
            log.warning("presence signal not shared", extra={"kind": signal.kind})

    async def _tail(self) -> None:
        if not self._open:
            await self.signals.reopen()
            self._open = True
        try:
            async for doc in self.signals.read():
                if doc.get("origin") != self.origin:
                    await self.presence.deliver(_signal(doc))
        finally:
            self._open = False


def _signal(doc: dict[str, Any]) -> PresenceSignal:
    author = doc.get("author")
    return PresenceSignal(
        doc["kind"],
        Conversation.model_validate(doc["conversation"]),
        Author.model_validate(author) if author else None,
    )


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(relay_context)


async def relay_context(app: web.Application) -> AsyncIterator[None]:
    """Relay presence between instances for the app's lifetime (not in local fan-out)."""
    if app[CONFIG].sync.fanout == "local":
        yield
        return
    relay = PresenceRelay(app[HUB].presence, PresenceSignals(app[MONGO], app[CHANGE_FEED]))
    await relay.start()
    yield
    await relay.stop()
