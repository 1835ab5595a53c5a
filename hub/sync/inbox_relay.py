"""The agents' live feed across hub instances: inbox changes ride one MongoDB change stream.

A customer's message may be stored by any instance; the agent's inbox socket lives on one.
Each instance watches the ``messages`` and ``conversations`` change stream once, for all
its sockets, and turns what it brings into the feed's frames: a message stored, a message
edited, deleted or given its fetched files, a conversation's status, assignee, labels or
priority changed. Its own changes reach the feed at once from the in-process event bus;
whichever of the two paths sees a change first shows it and the other skips it, so every
socket gets each change once, in commit order per conversation. The feed applies the
visibility rule (``hub.access.visibility``) to both alike.

When the stream fails it resumes after the last change read; when that position is gone
every socket is closed with 1013 (as one that falls behind), so its client reads the
list again. With ``sync.fanout:
local`` (one process, or a server without change streams) nothing is watched.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator

from aiohttp import web

from hub.core.hub import Hub
from hub.domain import Conversation, Message
from hub.errors import StorageError
from hub.runtime.background import BackgroundLoop
from hub.runtime.events import EventKind, InboxEvent
from hub.state import CHANGE_FEED, CONFIG, HUB, LIVE
from hub.web.live import AgentFeed
from storage.changes import CursorExpired
from storage.inbox_stream import InboxChange, InboxStream

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
SEEN_LIMIT = 10_000
# What the inbox shows of a conversation; a change to anything else (recency, receipts,
# the bot's memory) is no frame of its own.
SHOWN_FIELDS = ("status", "assignee", "labels", "priority")
FILE_FIELDS = frozenset({"attachments"})
TEXT_FIELDS = frozenset({"text", "deleted_at"})


def shown(conversation: Conversation) -> str:
    return json.dumps([getattr(conversation, f) for f in SHOWN_FIELDS], default=str)


def message_version(message: Message) -> str:
    body = message.model_dump(mode="json", include={"text", "deleted_at", "attachments"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


LOCAL, STREAM, BOTH = "local", "stream", "both"


class Bounded(OrderedDict[str, tuple[str, str]]):
    """Per id, the version last shown and by which path (the newest ``SEEN_LIMIT`` ids)."""

    def put(self, key: str, value: tuple[str, str]) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > SEEN_LIMIT:
            self.popitem(last=False)


class InboxRelay:
    """Feeds this instance's agent sockets from its own events and the others' changes."""

    def __init__(self, feed: AgentFeed, hub: Hub, stream: InboxStream) -> None:
        self.feed = feed
        self.hub = hub
        self.stream = stream
        self._open = False
        # Per conversation and message id: what was last shown of it, and by which path.
        self._conversations = Bounded()
        self._messages = Bounded()
        # The latest state of conversations the stream brought, so a message needs no read.
        self._latest: OrderedDict[str, Conversation] = OrderedDict()
        self._created: set[str] = set()  # inserted; their first message opens them
        self._loop = BackgroundLoop(
            "inbox relay",
            self._tail,
            interval=RETRY_SECONDS,
            max_retry=30 * RETRY_SECONDS,
            expected=(StorageError,),
            logger=log,
        )

    async def start(self) -> None:
        """Begin watching; returns once the stream is open, so no later change is missed."""
        await self.stream.open()
        self._open = True
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    def resume(self) -> None:
        """Watch again after ``stop``, from the last change read (as after a failure)."""
        self._loop.start()

    async def on_local(self, event: InboxEvent) -> None:
        """An event of this process: shown unless the stream showed the change already."""
        if self._first(LOCAL, event):
            await self.feed.on_event(event)

    def _first(self, path: str, event: InboxEvent) -> bool:
        """Record what this change shows; False when the other path showed it already."""
        conversation, message = event.conversation, event.message
        if message is None:
            return self._sighting(self._conversations, conversation.id, shown(conversation), path)
        if self._conversations.get(conversation.id, ("", ""))[0] != shown(conversation):
            self._conversations.put(conversation.id, (shown(conversation), path))
        # Per kind: two updates read in one batch carry the same (latest) document.
        version = (
            "stored" if event.kind == "message" else f"{event.kind}:{message_version(message)}"
        )
        return self._sighting(self._messages, message.id, version, path)

    @staticmethod
    def _sighting(seen: Bounded, key: str, version: str, path: str) -> bool:
        before = seen.get(key)
        if before is not None and before[0] == version:
            # Shown already, by either path: an update that left what the inbox shows as
            # it was is no frame (the local path would otherwise show a repeat the other
            # instances' streams do not).
            seen.put(key, (version, BOTH if before[1] != path else path))
            return False
        seen.put(key, (version, path))
        return True

    async def _tail(self) -> None:
        if not self._open:
            try:
                await self.stream.reopen()
            except CursorExpired:
                log.warning("inbox changes missed: agents' inboxes reload")
                await self.feed.close_all(code=1013, message=b"reload")
                await self.stream.open()
            self._open = True
        try:
            async for change in self.stream.changes():
                event = await self._event(change)
                if event is not None and self._first(STREAM, event):
                    await self.feed.on_event(event)
        finally:
            self._open = False

    async def _event(self, change: InboxChange) -> InboxEvent | None:
        if change.conversation is not None:
            conversation = change.conversation
            self._remember(conversation)
            if change.op == "insert":
                self._created.add(conversation.id)
                return None
            if change.op == "update" and not change.fields & set(SHOWN_FIELDS):
                return None
            return InboxEvent("conversation", conversation)
        message = change.message
        assert message is not None
        kind: EventKind
        if change.op == "insert":
            kind = "message"
        elif change.fields & FILE_FIELDS:
            kind = "message_files"
        elif change.fields & TEXT_FIELDS or change.op == "replace":
            kind = "message_updated"
        else:
            return None  # delivery status and the like: not shown live
        found = self._latest.get(message.conversation_id)
        if found is None:
            found = await self.hub.store.get_conversation(message.conversation_id)
            if found is None:
                return None
            self._remember(found)
        opened = kind == "message" and message.conversation_id in self._created
        self._created.discard(message.conversation_id)
        return InboxEvent(kind, found, message, new_conversation=opened)

    def _remember(self, conversation: Conversation) -> None:
        self._latest[conversation.id] = conversation
        self._latest.move_to_end(conversation.id)
        while len(self._latest) > SEEN_LIMIT:
            self._latest.popitem(last=False)
        if len(self._created) > SEEN_LIMIT:
            self._created.clear()


def setup(app: web.Application) -> None:
    """Feed the agents' sockets: from the event bus alone in local fan-out, otherwise
    through a relay that also watches the other instances' changes."""
    hub, feed = app[HUB], app[LIVE]
    if app[CONFIG].sync.fanout == "local":
        hub.subscribe(feed.on_event)
        return
    relay = InboxRelay(feed, hub, InboxStream(app[CHANGE_FEED]))
    hub.subscribe(relay.on_local)

    async def relay_context(app: web.Application) -> AsyncIterator[None]:
        await relay.start()
        yield
        await relay.stop()

    app.cleanup_ctx.append(relay_context)
