"""X payloads → ``InboundMessage``: API v2 (polling) and Account Activity (webhooks).

Both paths give the same external ids (``tweet:{id}``, ``dm:{id}``), so a tweet seen by
the poller and by the webhook is stored once. Text comes with t.co links replaced by
their expanded URL (media links dropped: the media become attachments), mentions kept.
A mention's thread is the tweet's ``conversation_id``; a DM's is the other participant.
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from hub.domain import Attachment, InboundMessage

Json = Mapping[str, Any]

TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "entities",
    "in_reply_to_user_id",
    "referenced_tweets",
    "attachments",
    "edit_history_tweet_ids",
]
USER_FIELDS = ["name", "username"]
MEDIA_FIELDS = ["type", "url", "preview_image_url", "variants", "alt_text"]
TWEET_EXPANSIONS = ["author_id", "attachments.media_keys"]
DM_EVENT_FIELDS = [
    "id",
    "text",
    "event_type",
    "created_at",
    "dm_conversation_id",
    "sender_id",
    "participant_ids",
    "attachments",
    "entities",
]
DM_EXPANSIONS = ["sender_id", "attachments.media_keys"]


def edited_tweet(tweet: Json) -> str | None:
    """The first version's id of an edited tweet (v2 ``edit_history_tweet_ids``, v1.1
    ``edit_history.initial_tweet_id``), or None for a tweet never edited."""
    history = tweet.get("edit_history_tweet_ids")
    if isinstance(history, list) and history:
        return str(history[0])
    initial = (tweet.get("edit_history") or {}).get("initial_tweet_id")
    return str(initial) if initial else None


def mention_thread(conversation_id: str) -> str:
    return conversation_id


def dm_thread(participant_id: str) -> str:
    return f"dm:{participant_id}"


def expand_text(text: str, spans: Iterable[tuple[int, int, str | None]]) -> str:
    """Replace each (start, end) span by its replacement (``None`` drops it); unescape."""
    out = text
    for start, end, replacement in sorted(spans, key=lambda s: s[0], reverse=True):
        if 0 <= start <= end <= len(out):
            out = out[:start] + (replacement or "") + out[end:]
    return html.unescape(out).strip()


def _v2_spans(entities: Json | None) -> list[tuple[int, int, str | None]]:
    spans: list[tuple[int, int, str | None]] = []
    for url in (entities or {}).get("urls", []):
        if "start" in url and "end" in url:
            keep = None if url.get("media_key") else url.get("expanded_url") or url.get("url")
            spans.append((int(url["start"]), int(url["end"]), keep))
    return spans


def _v1_spans(entities: Json | None) -> list[tuple[int, int, str | None]]:
    spans: list[tuple[int, int, str | None]] = []
    for url in (entities or {}).get("urls", []):
        start, end = url.get("indices", (0, 0))
        spans.append((int(start), int(end), url.get("expanded_url") or url.get("url")))
    for item in (entities or {}).get("media", []):  # media become attachments
        start, end = item.get("indices", (0, 0))
        spans.append((int(start), int(end), None))
    return spans


def _mime(url: str | None, fallback: str) -> str:
    guessed = mimetypes.guess_type(url or "")[0]
    return guessed or fallback


def _best_variant(variants: Sequence[Json]) -> Json | None:
    videos = [v for v in variants if str(v.get("content_type", "")).startswith("video/")]
    pool = videos or list(variants)
    if not pool:
        return None
    return max(pool, key=lambda v: int(v.get("bit_rate", v.get("bitrate", 0)) or 0))


def media_attachment(media: Json) -> Attachment:
    """One media object (v2 ``includes.media`` or v1.1 entity) as an attachment."""
    kind = media.get("type", "photo")
    name = str(media.get("media_key") or media.get("id_str") or "")
    if kind == "photo":
        # v1.1 media name the image media_url_https (their "url" is the t.co link).
        url = media.get("media_url_https") or media.get("url")
        return Attachment(kind="image", name=name, url=url, mime_type=_mime(url, "image/jpeg"))
    variants = media.get("variants") or (media.get("video_info") or {}).get("variants") or []
    best = _best_variant(variants)
    url = (best or {}).get("url") or media.get("preview_image_url") or media.get("media_url_https")
    mime = str((best or {}).get("content_type") or _mime(url, "video/mp4"))
    return Attachment(kind="video", name=name, url=url, mime_type=mime)


def _v2_attachments(item: Json, includes: Json) -> tuple[Attachment, ...]:
    keys = (item.get("attachments") or {}).get("media_keys") or []
    by_key = {m.get("media_key"): m for m in includes.get("media", [])}
    return tuple(media_attachment(by_key[key]) for key in keys if key in by_key)


def _user(includes: Json, user_id: str) -> Json:
    for user in includes.get("users", []):
        if str(user.get("id")) == user_id:
            return dict(user)
    return {"id": user_id}


def _iso(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _inbound(
    kind: str,
    item_id: str,
    sender_id: str,
    sender: tuple[str, str | None],
    thread_key: str,
    text: str,
    attachments: Iterable[Attachment],
    created_at: datetime,
    raw: dict[str, Any],
) -> InboundMessage:
    """The one place that decides ids and routes, shared by both payload formats."""
    if kind == "mention":
        external_id, route = f"tweet:{item_id}", {"kind": "mention", "reply_to": item_id}
    else:
        external_id, route = f"dm:{item_id}", {"kind": "dm", "participant_id": sender_id}
    return InboundMessage(
        channel="twitter",
        external_id=external_id,
        sender_id=sender_id,
        sender_name=sender[0],
        sender_handle=sender[1],
        thread_key=thread_key,
        text=text,
        attachments=tuple(attachments),
        created_at=created_at,
        route=route,
        raw=raw,
    )


def mention_from_v2(tweet: Json, includes: Json) -> InboundMessage:
    """A tweet from the mentions timeline."""
    author = _user(includes, str(tweet["author_id"]))
    tweet_id = str(tweet["id"])
    return _inbound(
        "mention",
        tweet_id,
        str(tweet["author_id"]),
        (str(author.get("name", "")), author.get("username")),
        mention_thread(str(tweet.get("conversation_id") or tweet_id)),
        expand_text(str(tweet.get("text", "")), _v2_spans(tweet.get("entities"))),
        _v2_attachments(tweet, includes),
        _iso(tweet.get("created_at")),
        {"source": "api_v2", "tweet": dict(tweet), "author": author},
    )


def dm_from_v2(event: Json, includes: Json) -> InboundMessage:
    """A ``MessageCreate`` DM event from ``GET /2/dm_events``."""
    sender_id = str(event["sender_id"])
    sender = _user(includes, sender_id)
    return _inbound(
        "dm",
        str(event["id"]),
        sender_id,
        (str(sender.get("name", "")), sender.get("username")),
        dm_thread(sender_id),
        expand_text(str(event.get("text", "")), _v2_spans(event.get("entities"))),
        _v2_attachments(event, includes),
        _iso(event.get("created_at")),
        {"source": "api_v2", "dm_event": dict(event), "sender": sender},
    )


def mention_from_activity(tweet: Json) -> InboundMessage:
    """A v1.1 tweet from an Account Activity ``tweet_create_events`` entry.

    v1.1 tweets carry no ``conversation_id``: the thread key is the tweet replied to (or
    the tweet itself); the adapter swaps in a known conversation's thread when it can.
    """
    long_form = tweet.get("extended_tweet") or {}
    text = str(long_form.get("full_text") or tweet.get("full_text") or tweet.get("text", ""))
    entities = long_form.get("entities") or tweet.get("entities")
    extended = long_form.get("extended_entities") or tweet.get("extended_entities") or {}
    media = list(extended.get("media") or (entities or {}).get("media") or [])
    user = tweet.get("user") or {}
    tweet_id = str(tweet["id_str"])
    replied_to = tweet.get("in_reply_to_status_id_str")
    created = tweet.get("created_at")
    return _inbound(
        "mention",
        tweet_id,
        str(user["id_str"]),
        (str(user.get("name", "")), user.get("screen_name")),
        mention_thread(str(tweet.get("conversation_id") or replied_to or tweet_id)),
        expand_text(text, _v1_spans(entities)),
        (media_attachment(m) for m in media),
        datetime.strptime(created, "%a %b %d %H:%M:%S %z %Y") if created else datetime.now(UTC),
        {"source": "account_activity", "tweet": dict(tweet)},
    )


def dm_from_activity(event: Json, users: Json) -> InboundMessage | None:
    """A ``message_create`` entry of Account Activity ``direct_message_events``."""
    if event.get("type") != "message_create":
        return None
    create = event.get("message_create") or {}
    data = create.get("message_data") or {}
    sender_id = str(create["sender_id"])
    sender = users.get(sender_id) or {}
    attachment = (data.get("attachment") or {}).get("media")
    media = [attachment] if attachment else []
    stamp = event.get("created_timestamp")
    return _inbound(
        "dm",
        str(event["id"]),
        sender_id,
        (str(sender.get("name", "")), sender.get("screen_name")),
        dm_thread(sender_id),
        expand_text(
            str(data.get("text", "")),
            _v1_spans({**(data.get("entities") or {}), "media": media}),
        ),
        (media_attachment(m) for m in media),
        datetime.fromtimestamp(int(stamp) / 1000, UTC) if stamp else datetime.now(UTC),
        {"source": "account_activity", "dm_event": dict(event), "sender": dict(sender)},
    )
