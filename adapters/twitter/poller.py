"""Polling the mentions timeline and DM events, resumable and within the rate limits.

Each stream keeps its position as a checkpoint in MongoDB, saved only after the page's
messages are stored: a restart neither replays nor misses (a crash between the two
replays at most one page, which the unique external id absorbs).

- mentions: ``since_id`` plus, while a backlog is paged through, the ``next_token``
  and the run's ``newest_id`` (which becomes the next ``since_id`` when paging ends).
- DM events: ``GET /2/dm_events`` has no ``since_id``; pages run newest first, so the
  stream pages back until it meets the newest event id it already has.

When a response says the window is spent (``x-rate-limit-remaining: 0``) or answers
429, the stream waits until ``x-rate-limit-reset`` instead of asking again; the time of
its next poll is kept and shown by ``status()``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from tweepy.errors import HTTPException, TooManyRequests

from adapters.twitter.client import RateWindow, TwitterApiClient
from adapters.twitter.normalize import (
    DM_EVENT_FIELDS,
    DM_EXPANSIONS,
    MEDIA_FIELDS,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    USER_FIELDS,
    dm_from_v2,
    mention_from_v2,
)
from hub.channels.port import ChannelState
from hub.domain import InboundMessage
from hub.errors import StorageError
from hub.runtime.background import BackgroundLoop

PAGE_SIZE = 100
# What each poll asks for (tweepy's keyword names): the fields normalize.py reads.
MENTIONS_QUERY: dict[str, Any] = {
    "max_results": PAGE_SIZE,
    "tweet_fields": TWEET_FIELDS,
    "expansions": TWEET_EXPANSIONS,
    "user_fields": USER_FIELDS,
    "media_fields": MEDIA_FIELDS,
}
DM_EVENTS_QUERY: dict[str, Any] = {
    "max_results": PAGE_SIZE,
    "event_types": "MessageCreate",
    "dm_event_fields": DM_EVENT_FIELDS,
    "expansions": DM_EXPANSIONS,
    "user_fields": USER_FIELDS,
    "media_fields": MEDIA_FIELDS,
}

log = logging.getLogger(__name__)

Ingest = Callable[[InboundMessage], Awaitable[Any]]
RESET_MARGIN_SECONDS = 0.5
# Failures of a poll worth a warning, not a stack trace: the network, X, the database.
POLL_ERRORS: tuple[type[Exception], ...] = (
    HTTPException,
    aiohttp.ClientError,
    TimeoutError,
    StorageError,
)


class WindowSpent(Exception):
    """The endpoint's rate-limit window is used up until ``reset_at``."""

    def __init__(self, reset_at: float) -> None:
        super().__init__(f"rate-limit window spent until {reset_at}")
        self.reset_at = reset_at


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


class PolledStream:
    """One polled endpoint: its route, its checkpoint name, and when it polls next."""

    def __init__(self, name: str, route: str, checkpoint: str) -> None:
        self.name = name
        self.route = route
        self.checkpoint = checkpoint
        self.next_poll_at: float = time.time()
        self.last_poll_at: float | None = None
        self.last_error: str | None = None
        self.window: RateWindow | None = None

    def status(self) -> dict[str, Any]:
        return {
            "next_poll_at": _iso(self.next_poll_at),
            "last_poll_at": _iso(self.last_poll_at),
            "last_error": self.last_error,
            "rate_limit": self.window.as_dict() if self.window else None,
        }


class TwitterPoller:
    """Two loops (mentions, DM events) feeding ``ingest`` with normalized messages."""

    def __init__(
        self,
        client: TwitterApiClient,
        state: ChannelState,
        account_id: str,
        interval: float,
        ingest: Ingest,
        *,
        app_auth_mentions: bool = False,
    ) -> None:
        self.client = client
        # With a bearer token, mentions are read app-only (a separate, larger window).
        self.mentions_user_auth = not app_auth_mentions
        self.state = state
        self.account_id = account_id
        self.interval = interval
        self.ingest = ingest
        self.mentions = PolledStream(
            "mentions", f"/2/users/{account_id}/mentions", f"twitter:mentions:{account_id}"
        )
        self.dm_events = PolledStream("dm_events", "/2/dm_events", f"twitter:dm:{account_id}")
        self._loops = [
            self._loop("x-mentions", self.mentions, self.poll_mentions),
            self._loop("x-dms", self.dm_events, self.poll_dm_events),
        ]

    def start(self) -> None:
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        for loop in self._loops:
            await loop.stop()

    def status(self) -> dict[str, Any]:
        streams = (self.mentions, self.dm_events)
        return {
            "mode": "polling",
            "next_poll_at": _iso(min(s.next_poll_at for s in streams)),
            "streams": {s.name: s.status() for s in streams},
        }

    def _loop(
        self, name: str, stream: PolledStream, poll: Callable[[], Awaitable[None]]
    ) -> BackgroundLoop:
        """One stream's loop: poll when due, wait out a spent window, back off on errors."""

        async def tick() -> float:
            return await self._poll(stream, poll)

        def failed(exc: Exception, retry: float) -> None:
            expected = isinstance(exc, POLL_ERRORS)
            stream.last_error = f"{type(exc).__name__}: {exc}" if expected else "internal error"
            self._note_window(stream)
            stream.next_poll_at = max(stream.next_poll_at, time.time() + retry)

        return BackgroundLoop(
            name,
            tick,
            interval=self.interval,
            max_retry=max(self.interval, 15 * 60.0),
            expected=POLL_ERRORS,
            on_failure=failed,
            logger=log,
        )

    async def _poll(self, stream: PolledStream, poll: Callable[[], Awaitable[None]]) -> float:
        """Poll once when the stream is due (a spent window or a backoff may have moved
        that later); the next tick follows at once and waits for its own time."""
        await asyncio.sleep(max(0.0, stream.next_poll_at - time.time()))
        now = stream.last_poll_at = time.time()
        stream.next_poll_at = now + self.interval
        try:
            await poll()
            stream.last_error = None
        except (WindowSpent, TooManyRequests) as exc:
            reset = exc.reset_at if isinstance(exc, WindowSpent) else exc.reset_time
            stream.last_error = "rate limited"
            if reset is not None:
                stream.next_poll_at = max(stream.next_poll_at, reset + RESET_MARGIN_SECONDS)
            log.info("X rate limit reached", extra={"stream": stream.name, "reset": reset})
        self._note_window(stream)
        return 0.0

    def _note_window(self, stream: PolledStream) -> None:
        stream.window = self.client.rate_window("GET", stream.route)
        if stream.window is not None and stream.window.spent():
            assert stream.window.reset_at is not None
            stream.next_poll_at = max(
                stream.next_poll_at, stream.window.reset_at + RESET_MARGIN_SECONDS
            )

    def _guard(self, stream: PolledStream) -> None:
        """Refuse to call an endpoint whose window is spent (a page loop's next call)."""
        window = self.client.rate_window("GET", stream.route)
        if window is None or not window.spent() or window.reset_at is None:
            return
        if window.reset_at + RESET_MARGIN_SECONDS > time.time():
            raise WindowSpent(window.reset_at)

    async def poll_mentions(self) -> None:
        """Fetch and store every mention after the checkpoint, page by page."""
        cp: dict[str, Any] = dict(await self.state.load_checkpoint(self.mentions.checkpoint) or {})
        while True:
            self._guard(self.mentions)
            params: dict[str, Any] = dict(MENTIONS_QUERY)
            if cp.get("since_id"):
                params["since_id"] = cp["since_id"]
            if cp.get("next_token"):
                params["pagination_token"] = cp["next_token"]
            page = await self.client.get_users_mentions(
                self.account_id, user_auth=self.mentions_user_auth, **params
            )
            meta = page.get("meta") or {}
            includes = page.get("includes") or {}
            for tweet in reversed(page.get("data") or []):  # oldest first
                await self.ingest(mention_from_v2(tweet, includes))
            newest = cp.get("newest_id") or meta.get("newest_id")
            if meta.get("next_token"):
                cp = {**cp, "next_token": meta["next_token"], "newest_id": newest}
                await self.state.save_checkpoint(self.mentions.checkpoint, cp)
                continue
            cp = {"since_id": newest or cp.get("since_id"), "next_token": None, "newest_id": None}
            await self.state.save_checkpoint(self.mentions.checkpoint, cp)
            return

    async def poll_dm_events(self) -> None:
        """Fetch and store DM events newer than the newest one already stored."""
        cp: dict[str, Any] = dict(await self.state.load_checkpoint(self.dm_events.checkpoint) or {})
        seen = int(cp.get("newest_seen") or 0)
        while True:
            self._guard(self.dm_events)
            params: dict[str, Any] = dict(DM_EVENTS_QUERY)
            if cp.get("next_token"):
                params["pagination_token"] = cp["next_token"]
            page = await self.client.get_direct_message_events(user_auth=True, **params)
            includes = page.get("includes") or {}
            events = [e for e in page.get("data") or [] if e.get("event_type") == "MessageCreate"]
            fresh = [e for e in events if int(e["id"]) > seen]
            for event in sorted(fresh, key=lambda e: int(e["id"])):
                await self.ingest(dm_from_v2(event, includes))
            run_newest = max([int(cp.get("run_newest") or 0), *(int(e["id"]) for e in fresh)])
            next_token = (page.get("meta") or {}).get("next_token")
            if next_token and len(fresh) == len(events) and events:
                cp = {
                    "newest_seen": str(seen),
                    "next_token": next_token,
                    "run_newest": str(run_newest),
                }
                await self.state.save_checkpoint(self.dm_events.checkpoint, cp)
                continue
            cp = {"newest_seen": str(max(seen, run_newest)), "next_token": None, "run_newest": None}
            await self.state.save_checkpoint(self.dm_events.checkpoint, cp)
            return
