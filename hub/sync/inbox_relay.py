"""The agents' live feed across hub instances: inbox changes ride one MongoDB change stream.

A customer's message may be stored by any instance; the agent's inbox socket lives on one.
Each instance watches the ``messages`` and ``conversations`` change stream once, for all
its sockets, and turns what it brings into the feed's frames: a message stored, a message
edited, deleted or given its fetched files, a conversation's status, assignee, labels or
priority changed. The stream has every instance's changes in commit order, so it sets
the order of what every socket is shown: an instance's own changes, published on its
event bus, wait until the stream brings them back and are shown then, as they were
published (with who made a change and why, which the stream does not carry). So every
socket gets each change once, in commit order per conversation, on every instance, even
when another instance committed a change just before. A change of its own the stream has
not brought back within ``HOLD_SECONDS`` (the stream down, or a change the inbox does not
show) is shown then, unless it repeats what was shown. The feed applies the visibility
rule (``hub.access.visibility``) to all alike.

When the stream fails it resumes after the last change read; when that position is gone
every socket is closed with 1013 (as one that falls behind), so its client reads the
list again. With ``sync.fanout:
local`` (one process, or a server without change streams) nothing is watched.
"""

from __future__ import annotations

import asyncio
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
HOLD_SECONDS = 2.0
TEXT_FIELDS = frozenset({"text", "deleted_at"})


def shown(conversation: Conversation) -> str:
    return json.dumps([getattr(conversation, f) for f in SHOWN_FIELDS], default=str)


def message_version(message: Message) -> str:
    body = message.model_dump(mode="json", include={"text", "deleted_at", "attachments"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


LOCAL, STREAM, BOTH = "local", "stream", "both"


def change_key(event: InboxEvent) -> str:
    """What identifies a change on both paths: a conversation's shown state, or a
    message's id and version (per kind: two updates read in one batch may carry the same
    latest document)."""
    if event.message is None:
        return "conversation:" + shown(event.conversation)
    return f"message:{event.message.id}:{_message_version(event.kind, event.message)}"


def _message_version(kind: EventKind, message: Message) -> str:
    return "stored" if kind == "message" else f"{kind}:{message_version(message)}"


class Held:
    """One of this process's changes, waiting for the stream to bring it back; ``read`` is
    how many changes of its conversation the stream had brought when it was held."""

    __slots__ = ("event", "key", "read", "timer")

    def __init__(self, key: str, event: InboxEvent, read: int, timer: asyncio.TimerHandle) -> None:
        self.key, self.event, self.read, self.timer = key, event, read, timer


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
        # This process's changes the stream has not brought back yet, per conversation.
        self._held: dict[str, list[Held]] = {}
        # Per conversation, how many of its changes the stream brought (recent ones).
        self._read: OrderedDict[str, int] = OrderedDict()
        # Changes the stream showed before their event was published here (the write's
        # coroutine had not resumed yet), until when that event is expected.
        self._shown_early: OrderedDict[str, float] = OrderedDict()
        self._none_held = asyncio.Event()
        self._none_held.set()
        self._late: set[asyncio.Task[None]] = set()
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
        for held in self._held.values():
            for entry in held:
                entry.timer.cancel()
        self._held.clear()
        self._none_held.set()

    def resume(self) -> None:
        """Watch again after ``stop``, from the last change read (as after a failure)."""
        self._loop.start()

    async def on_local(self, event: InboxEvent) -> None:
        """An event of this process: held until the stream brings its change back."""
        cid, key = event.conversation.id, change_key(event)
        loop = asyncio.get_running_loop()
        if self._shown_early.pop(f"{cid} {key}", 0.0) > loop.time():
            return  # the stream was first: shown already, in its place
        timer = loop.call_later(HOLD_SECONDS, self._overdue, key, event)
        held = Held(key, event, self._read.get(cid, 0), timer)
        self._held.setdefault(cid, []).append(held)
        self._none_held.clear()

    async def settled(self) -> None:
        """Until none of this process's changes waits for the stream (shown or overdue)."""
        while self._held or self._late:
            if self._held:
                await self._none_held.wait()
            else:
                await asyncio.gather(*self._late, return_exceptions=True)

    def _take(self, conversation_id: str, key: str) -> Held | None:
        """The held entry of this change, no longer held (None: not one of ours)."""
        held = self._held.get(conversation_id)
        if not held:
            return None
        for n, entry in enumerate(held):
            if entry.key == key:
                entry.timer.cancel()
                del held[n]
                if not held:
                    del self._held[conversation_id]
                    if not self._held:
                        self._none_held.set()
                return entry
        return None

    def _overdue(self, key: str, event: InboxEvent) -> None:
        """Not brought back in time. If the stream brought later changes of the
        conversation meanwhile, it has passed this one (shown in its own version, or not
        a change the inbox shows): showing it now would put an older state last. If it
        brought none, it is down or behind: show it."""
        cid = event.conversation.id
        held = self._take(cid, key)
        if held is None or self._read.get(cid, 0) > held.read:
            return
        if self._first(LOCAL, event):
            task = asyncio.get_running_loop().create_task(self.feed.on_event(event))
            self._late.add(task)
            task.add_done_callback(self._late.discard)

    def _note_read(self, change: InboxChange) -> None:
        if change.conversation is not None:
            cid = change.conversation.id
        elif change.message is not None:
            cid = change.message.conversation_id
        else:
            return
        self._read[cid] = self._read.get(cid, 0) + 1
        self._read.move_to_end(cid)
        while len(self._read) > SEEN_LIMIT:
            self._read.popitem(last=False)

    def _note_early(self, conversation_id: str, key: str, now: float) -> None:
        key = f"{conversation_id} {key}"
        self._shown_early[key] = now + HOLD_SECONDS
        self._shown_early.move_to_end(key)
        while len(self._shown_early) > SEEN_LIMIT:
            self._shown_early.popitem(last=False)

    def _first(self, path: str, event: InboxEvent) -> bool:
        """Record what this change shows; False when the other path showed it already."""
        conversation, message = event.conversation, event.message
        if message is None:
            return self._sighting(self._conversations, conversation.id, shown(conversation), path)
        if self._conversations.get(conversation.id, ("", ""))[0] != shown(conversation):
            self._conversations.put(conversation.id, (shown(conversation), path))
        # Per kind: two updates read in one batch carry the same (latest) document.
        version = _message_version(event.kind, message)
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
            loop = asyncio.get_running_loop()
            async for change in self.stream.changes():
                self._note_read(change)
                event = await self._event(change)
                if event is None:
                    continue
                path, key = STREAM, change_key(event)
                mine = self._take(event.conversation.id, key)
                if mine is not None:  # this process's change: shown as it was published
                    event, path = mine.event, LOCAL
                else:  # another instance's, or ours with its event still to be published
                    self._note_early(event.conversation.id, key, loop.time())
                if self._first(path, event):
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


INBOX_RELAY = web.AppKey("inbox_relay", InboxRelay)


def setup(app: web.Application) -> None:
    """Feed the agents' sockets: from the event bus alone in local fan-out, otherwise
    through a relay that also watches the other instances' changes."""
    hub, feed = app[HUB], app[LIVE]
    if app[CONFIG].sync.fanout == "local":
        hub.subscribe(feed.on_event)
        return
    app[INBOX_RELAY] = relay = InboxRelay(feed, hub, InboxStream(app[CHANGE_FEED]))
    hub.subscribe(relay.on_local)

    async def relay_context(app: web.Application) -> AsyncIterator[None]:
        await relay.start()
        yield
        await relay.stop()

    app.cleanup_ctx.append(relay_context)
