"""A local X API v2 server for tests: mentions, DM events, create tweet, send DM.

It speaks the real wire format: ``data`` / ``includes`` / ``meta`` (``newest_id``,
``oldest_id``, ``next_token``, ``result_count``), problem-details errors, fields
returned only when asked for with ``tweet.fields`` / ``dm_event.fields``, OAuth 1.0a
verified by oauthlib's server side, and every answer carrying ``x-rate-limit-limit``,
``-remaining`` and ``-reset`` — with 429 once a window is spent. It refuses what X refuses:
a tweet over 280 by the twitter-text weighting, a ``max_results`` outside the reference's
bounds. ``POST /2/media/upload`` takes a one-shot image (JSON: ``media`` base64,
``media_category`` ``tweet_image`` or ``dm_image``, ``media_type``) of a type and size X
takes that way (JPEG, PNG, WebP, BMP, TIFF by content; at most 5 MB) and answers
``{"data": {"id", "media_key", "size", "expires_after_secs", "image"}}``; a post carries at
most four uploaded media ids, a DM one attachment, and an id never uploaded is refused.
Every request is
logged with its arrival time so tests can assert on what the client did and when.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import itertools
import json
import math
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import filetype
from aiohttp import web
from twitter_text import parse_tweet

from tests.fakes.oauth1 import OAuth1Verifier

WINDOW_SECONDS = 900
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
DEFAULT_DM_FIELDS = ("id", "text", "event_type")
# ``max_results`` as the X API v2 reference bounds it: (least, most, default).
MAX_RESULTS = {"mentions": (5, 100, 10), "dm_events": (1, 100, 100)}
TWEET_LIMIT = 280  # weighted, by the twitter-text rules X applies
IMAGE_LIMIT = 5 * 1024 * 1024  # "Image: 5 MB" (docs.x.com/x-api/media)
ONE_SHOT_TYPES = {"image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff"}
MEDIA_CATEGORIES = {"tweet_image", "dm_image", "tweet_video", "tweet_gif", "dm_video",
                    "dm_gif", "subtitles"}  # fmt: skip


@dataclass
class LoggedRequest:
    endpoint: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float
    status: int = 0


@dataclass
class Window:
    limit: int
    remaining: int
    reset: int
    # Seconds from the first refused call to the reset, while no call has been refused yet.
    reset_after_refusal: float | None = None


@dataclass
class Credentials:
    consumer_key: str = "fake-consumer-key"
    consumer_secret: str = "fake-consumer-secret"
    access_token: str = "1000-fake-access-token"
    access_token_secret: str = "fake-access-token-secret"
    bearer_token: str = "fake-bearer-token"


def _invalid(parameter: str, value: str, message: str) -> tuple[int, dict[str, Any]]:
    """X's 400 for a parameter it refuses."""
    return 400, {
        "errors": [{"message": message, "parameters": {parameter: [value]}}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": "about:blank", "status": status}


@dataclass
class FakeTwitterApi:
    """The fake's state: timeline and DM events to serve, what was posted, the log."""

    account_id: str = "1000"
    account_username: str = "acme"
    credentials: Credentials = field(default_factory=Credentials)
    page_size: int = 100
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    dm_events: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted_tweets: list[dict[str, Any]] = field(default_factory=list)
    sent_dms: list[dict[str, Any]] = field(default_factory=list)
    # media id -> {"category", "media_type", "content"}: what ``/2/media/upload`` kept
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[LoggedRequest] = field(default_factory=list)
    windows: dict[str, Window] = field(default_factory=dict)
    scripted: dict[str, deque[tuple[int, dict[str, Any], float]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    base_url: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(1_790_000_000_000_000_000, 17))
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        # The keys are read at each request: a test may change the credentials.
        self._oauth1 = OAuth1Verifier(lambda: dataclasses.asdict(self.credentials))

    # -- arranging ------------------------------------------------------------------
    def next_id(self) -> str:
        return str(next(self._ids))

    def user(self, user_id: str, name: str, username: str) -> dict[str, Any]:
        self.users[user_id] = {"id": user_id, "name": name, "username": username}
        return self.users[user_id]

    def add_mention(
        self,
        author_id: str,
        text: str,
        *,
        conversation_id: str | None = None,
        in_reply_to: str | None = None,
        urls: list[dict[str, Any]] | None = None,
        media: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        tweet_id = self.next_id()
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "edit_history_tweet_ids": [tweet_id],
            "author_id": author_id,
            "conversation_id": conversation_id or tweet_id,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "entities": {
                "mentions": [
                    {
                        "start": text.find("@" + self.account_username),
                        "end": text.find("@" + self.account_username)
                        + len(self.account_username)
                        + 1,
                        "username": self.account_username,
                        "id": self.account_id,
                    }
                ],
                "urls": list(urls or []),
            },
        }
        if in_reply_to:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
            tweet["in_reply_to_user_id"] = self.account_id
        for item in media or []:
            self.media[item["media_key"]] = item
            tweet.setdefault("attachments", {}).setdefault("media_keys", []).append(
                item["media_key"]
            )
        self.mentions.append(tweet)
        return tweet

    def edit_mention(self, original: dict[str, Any], text: str) -> dict[str, Any]:
        """The author edits a mention: as on X, the edit is a new tweet with a new id whose
        ``edit_history_tweet_ids`` lists every version's id, oldest first, ending with its
        own (https://docs.x.com/x-api/fundamentals/edit-posts)."""
        tweet_id = self.next_id()
        edited = {
            **original,
            "id": tweet_id,
            "text": text,
            "edit_history_tweet_ids": [*original["edit_history_tweet_ids"], tweet_id],
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        }
        self.mentions.append(edited)
        return edited

    def add_dm(self, sender_id: str, text: str) -> dict[str, Any]:
        low, high = sorted([sender_id, self.account_id], key=int)
        event = {
            "id": self.next_id(),
            "text": text,
            "event_type": "MessageCreate",
            "dm_conversation_id": f"{low}-{high}",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "sender_id": sender_id,
            "participant_ids": [low, high],
        }
        self.dm_events.append(event)
        return event

    def set_window(self, endpoint: str, remaining: int, reset_in: float) -> int:
        """Put ``endpoint``'s window at ``remaining`` calls, resetting ``reset_in`` from now."""
        reset = int(time.time() + reset_in)
        self.windows[endpoint] = Window(limit=75, remaining=remaining, reset=reset)
        return reset

    def spend_window(self, endpoint: str, reset_after_refusal: float) -> None:
        """Spend ``endpoint``'s window until ``reset_after_refusal`` past the first 429.

        Anchored to the refusal, not to now: however long the client takes to make that
        call, it is refused, and its wait for the reset is measured from there.
        """
        reset = int(time.time()) + WINDOW_SECONDS
        self.windows[endpoint] = Window(75, 0, reset, reset_after_refusal=reset_after_refusal)

    def script(self, endpoint: str, status: int, body: dict[str, Any], delay: float = 0.0) -> None:
        """Answer the next call to ``endpoint`` with this status and body instead.

        With ``delay`` the answer comes that late (a client with a shorter timeout gives up
        first, and the call took no effect).
        """
        self.scripted[endpoint].append((status, body, delay))

    def calls(self, endpoint: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.endpoint == endpoint]

    # -- serving --------------------------------------------------------------------
    async def start(self) -> str:
        # Large enough for a too-large image's base64: X itself answers that with a 400.
        app = web.Application(middlewares=[self._middleware], client_max_size=32 * 1024 * 1024)
        app.router.add_post("/2/media/upload", self._upload_media, name="media_upload")
        app.router.add_get("/2/users/{id}/mentions", self._mentions, name="mentions")
        app.router.add_get("/2/dm_events", self._dm_events, name="dm_events")
        app.router.add_post("/2/tweets", self._create_tweet, name="create_tweet")
        app.router.add_post(
            "/2/dm_conversations/with/{participant_id}/messages", self._send_dm, name="send_dm"
        )
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _window(self, endpoint: str) -> Window:
        now = time.time()
        window = self.windows.get(endpoint)
        if window is None or now >= window.reset:
            window = Window(limit=75, remaining=75, reset=int(now) + WINDOW_SECONDS)
            self.windows[endpoint] = window
        return window

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[len("Bearer ") :] == self.credentials.bearer_token
        if not header.startswith("OAuth "):
            return False
        return self._oauth1.verify(request)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        endpoint = request.match_info.route.name or "unknown"
        raw = await request.read()
        entry = LoggedRequest(
            endpoint,
            request.method,
            request.path,
            dict(request.query),
            json.loads(raw) if raw else None,
            time.time(),
        )
        self.requests.append(entry)
        window = self._window(endpoint)
        if not self._authorized(request):
            status, body = 401, _problem(401, "Unauthorized", "Unauthorized")
        elif window.remaining <= 0:
            status, body = 429, _problem(429, "Too Many Requests", "Too Many Requests")
            if window.reset_after_refusal is not None:
                window.reset = math.ceil(time.time() + window.reset_after_refusal)
                window.reset_after_refusal = None
        else:
            window.remaining -= 1
            if self.scripted[endpoint]:
                status, body, delay = self.scripted[endpoint].popleft()
                await asyncio.sleep(delay)
            else:
                status, body = await handler(request)
        entry.status = status
        headers = {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(max(window.remaining, 0)),
            "x-rate-limit-reset": str(window.reset),
        }
        return web.json_response(body, status=status, headers=headers)

    # -- endpoints --------------------------------------------------------------------
    @staticmethod
    def _max_results(request: web.Request, endpoint: str) -> int | None:
        """The page size asked for, or None when X would refuse it."""
        least, most, default = MAX_RESULTS[endpoint]
        asked = request.query.get("max_results", str(default))
        if not asked.isdigit() or not least <= int(asked) <= most:
            return None
        return int(asked)

    def _page(
        self, items: list[dict[str, Any]], request: web.Request, asked: int
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Newest first, ``asked`` a page, opaque tokens naming the next position."""
        newest_first = sorted(items, key=lambda item: int(item["id"]), reverse=True)
        token = request.query.get("pagination_token")
        if token:
            newest_first = [i for i in newest_first if int(i["id"]) < int(token[1:], 16)]
        size = min(asked, self.page_size)
        page, rest = newest_first[:size], newest_first[size:]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
        if page and rest:
            meta["next_token"] = "p" + format(int(page[-1]["id"]), "x")
        return page, meta

    def _includes(self, request: web.Request, page: list[dict[str, Any]], key: str) -> Any:
        expansions = set(filter(None, request.query.get("expansions", "").split(",")))
        includes: dict[str, Any] = {}
        if key in expansions:
            ids = list(dict.fromkeys(item[key] for item in page if key in item))
            includes["users"] = [self.users[i] for i in ids if i in self.users]
        if "attachments.media_keys" in expansions:
            keys = [k for item in page for k in item.get("attachments", {}).get("media_keys", [])]
            includes["media"] = [self.media[k] for k in keys]
        return includes

    @staticmethod
    def _fields(item: dict[str, Any], asked: str, default: tuple[str, ...]) -> dict[str, Any]:
        wanted = set(default) | set(filter(None, asked.split(",")))
        return {k: v for k, v in item.items() if k in wanted}

    def _listing(
        self,
        items: list[dict[str, Any]],
        request: web.Request,
        kind: str,
        defaults: tuple[str, ...],
        user_key: str,
    ) -> tuple[int, dict[str, Any]]:
        endpoint = request.match_info.route.name or ""
        asked = self._max_results(request, endpoint)
        if asked is None:
            least, most, _ = MAX_RESULTS[endpoint]
            value = request.query["max_results"]
            message = f"The `max_results` query parameter value [{value}] is not between {least} and {most}"
            return _invalid("max_results", value, message)
        page, meta = self._page(items, request, asked)
        asked = request.query.get(f"{kind}.fields", "")
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [self._fields(item, asked, defaults) for item in page]
            body["includes"] = self._includes(request, page, user_key)
        return 200, body

    async def _mentions(self, request: web.Request) -> tuple[int, dict[str, Any]]:
        if request.match_info["id"] != self.account_id:
            return 200, {"errors": [{"detail": "Could not find user", "title": "Not Found Error"}]}
        since = int(request.query.get("since_id", "0"))
        tweets = [t for t in self.mentions if int(t["id"]) > since]
        return self._listing(tweets, request, "tweet", DEFAULT_TWEET_FIELDS, "author_id")

    async def _dm_events(self, request: web.Request) -> tuple[int, dict[str, Any]]:
        types = request.query.get("event_types", "MessageCreate").split(",")
        events = [e for e in self.dm_events if e["event_type"] in types]
        status, body = self._listing(events, request, "dm_event", DEFAULT_DM_FIELDS, "sender_id")
        if status == 200:  # DM pages carry no newest_id / oldest_id
            body["meta"].pop("newest_id", None), body["meta"].pop("oldest_id", None)
        return status, body

    async def _create_tweet(self, request: web.Request) -> tuple[int, dict[str, Any]]:
        payload = await request.json()
        text = payload.get("text", "")
        if parse_tweet(text).weightedLength > TWEET_LIMIT:
            return _invalid("text", text, "Your Tweet text is too long.")
        if any(t["text"] == text for t in self.posted_tweets):
            detail = "You are not allowed to create a Tweet with duplicate content."
            return 403, _problem(403, "Forbidden", detail)
        media_ids = list((payload.get("media") or {}).get("media_ids") or [])
        refused = self._media_refused(media_ids, most=4, parameter="media.media_ids")
        if refused is not None:
            return refused
        if not text and not media_ids:
            return _invalid("text", text, "Your Tweet needs text or media.")
        tweet_id = self.next_id()
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        posted = {"id": tweet_id, "text": text, "in_reply_to": reply_to}
        self.posted_tweets.append(posted | ({"media_ids": media_ids} if media_ids else {}))
        return 201, {"data": {"id": tweet_id, "edit_history_tweet_ids": [tweet_id], "text": text}}

    async def _send_dm(self, request: web.Request) -> tuple[int, dict[str, Any]]:
        payload = await request.json()
        participant = request.match_info["participant_id"]
        low, high = sorted([participant, self.account_id], key=int)
        media_ids = [a.get("media_id") for a in payload.get("attachments") or []]
        refused = self._media_refused(media_ids, most=1, parameter="attachments")
        if refused is not None:
            return refused
        event_id = self.next_id()
        sent = {"id": event_id, "participant_id": participant, "text": payload.get("text", "")}
        self.sent_dms.append(sent | ({"media_ids": media_ids} if media_ids else {}))
        return 201, {"data": {"dm_conversation_id": f"{low}-{high}", "dm_event_id": event_id}}

    def _media_refused(
        self, media_ids: list[Any], *, most: int, parameter: str
    ) -> tuple[int, dict[str, Any]] | None:
        if len(media_ids) > most:
            return _invalid(parameter, str(media_ids), f"At most {most} media may be attached.")
        for media_id in media_ids:
            if media_id not in self.uploads:
                return _invalid(parameter, str(media_id), "Your media IDs are invalid.")
        return None

    async def _upload_media(self, request: web.Request) -> tuple[int, dict[str, Any]]:
        try:
            payload = await request.json()
            content = base64.b64decode(payload.get("media", ""), validate=True)
        except (ValueError, binascii.Error):
            return _invalid("media", "", "The media must be base64 in a JSON body.")
        category = payload.get("media_category", "")
        if category not in MEDIA_CATEGORIES:
            return _invalid("media_category", str(category), "Invalid media_category.")
        guess = filetype.guess(content)
        if guess is None or guess.mime not in ONE_SHOT_TYPES or not category.endswith("image"):
            found = guess.mime if guess else "unknown"
            return _invalid("media", found, f"Unsupported media type for one-shot upload: {found}")
        if len(content) > IMAGE_LIMIT:
            return _invalid("media", str(len(content)), "File size exceeds 5242880 bytes.")
        media_id = self.next_id()
        self.uploads[media_id] = {
            "category": category, "media_type": guess.mime, "content": content,
        }  # fmt: skip
        return 200, {
            "data": {
                "id": media_id,
                "media_key": f"3_{media_id}",
                "size": len(content),
                "expires_after_secs": 86400,
                "image": {"image_type": guess.mime},
            }
        }
