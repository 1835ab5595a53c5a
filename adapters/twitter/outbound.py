"""Agent replies onto X: a reply tweet (a numbered thread when long) or a DM.

A long reply goes out as parts ``" 1/3"`` …, each replying to the one before. The ids
of the parts already posted are saved as a checkpoint per message, so a retry after a
rate limit or a crash continues the thread instead of posting a part twice (X refuses
duplicate text with 403, which would otherwise fail the whole reply).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
from tweepy.errors import Forbidden, HTTPException, TooManyRequests, TwitterServerError
from twitter_text import parse_tweet

from adapters.twitter.client import TwitterApiClient, error_detail, seconds_until
from hub.channels.port import ChannelState, MediaPort
from hub.domain import Attachment, DeliveryResult, OutboundMessage
from hub.errors import ChorusError

TWEET_LIMIT = 280
DM_LIMIT = 10_000
# What X API v2's one-shot media upload takes (the chunked upload, for GIFs and video, is
# not used), and its image limit.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff"})
IMAGE_LIMIT = 5 * 1024 * 1024
RETRY_MARGIN_SECONDS = 0.5


def weighted_length(text: str) -> int:
    """Tweet length as X counts it, by the twitter-text rules (v3): NFC first; links,
    bare domains included ("acme.co"), weigh 23; an emoji sequence weighs 2; CJK weighs 2."""
    return int(parse_tweet(text).weightedLength)


def _longest_prefix(word: str, budget: int) -> int:
    """How many characters of ``word`` fit ``budget`` (at least one, so cutting ends)."""
    low, high = 1, len(word)  # weight only grows with the prefix: bisect
    while low < high:
        middle = (low + high + 1) // 2
        if weighted_length(word[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def _fill(tokens: list[str], budget: int) -> list[str]:
    """Greedy packing of word tokens (each with its trailing whitespace) into parts."""
    parts: list[str] = []
    current = ""
    for token in tokens:
        if weighted_length((current + token).rstrip()) <= budget:
            current += token
            continue
        if current.strip():
            parts.append(current.rstrip())
        current = ""
        word = token.rstrip()
        while weighted_length(word) > budget:  # a single over-long word is cut
            cut = _longest_prefix(word, budget)
            parts.append(word[:cut])
            word = word[cut:]
        current = word + token[len(token.rstrip()) :]
    if current.strip():
        parts.append(current.rstrip())
    return parts


def split_thread(text: str, limit: int = TWEET_LIMIT) -> list[str]:
    """The text as one tweet, or as numbered parts (" 1/3") that each fit ``limit``."""
    text = text.strip()
    if weighted_length(text) <= limit:
        return [text]
    tokens = re.findall(r"\S+\s*", text)
    count = 2
    while True:
        parts = _fill(tokens, limit - len(f" {count}/{count}"))
        if len(str(len(parts))) <= len(str(count)):
            return [f"{part} {n}/{len(parts)}" for n, part in enumerate(parts, 1)]
        count = len(parts)


def _text_with_links(outbound: OutboundMessage) -> str:
    # Files kept elsewhere (an attachment with a ``url``) go out as their links.
    links = [a.url for a in outbound.attachments if a.url and _uploadable(a) is None]
    return "\n".join([outbound.text, *links]).strip()


def _uploadable(attachment: Attachment) -> Attachment | None:
    """The attachment when X's one-shot upload takes it (a stored image of a type and size
    X accepts that way), else None."""
    if (
        attachment.media_id is not None
        and attachment.mime_type in IMAGE_TYPES
        and (attachment.size or 0) <= IMAGE_LIMIT
    ):
        return attachment
    return None


def _refusal(outbound: OutboundMessage, most: int, where: str) -> DeliveryResult | None:
    """Why X cannot carry this reply's files, before anything is posted (None if it can)."""
    for attachment in outbound.attachments:
        if attachment.media_id is not None and not attachment.url and not _uploadable(attachment):
            # Not an image X takes, and the hub's own links expire: nothing fits a post.
            return DeliveryResult.failed(
                f"X cannot carry {attachment.name or 'the file'} ({attachment.mime_type}):"
                " replies upload only JPEG, PNG, WebP, BMP or TIFF images up to 5 MB;"
                " send a link to the file instead"
            )
    if len([a for a in outbound.attachments if _uploadable(a)]) > most:
        return DeliveryResult.failed(f"X allows at most {most} image(s) on {where}")
    return None


class TwitterSender:
    """Delivers one outbound message through the API client."""

    def __init__(
        self, client: TwitterApiClient, state: ChannelState, media: MediaPort | None = None
    ) -> None:
        self.client = client
        self.state = state
        self.media = media

    async def send(self, outbound: OutboundMessage) -> DeliveryResult:
        kind = outbound.route.get("kind")
        refused = _refusal(outbound, *((1, "a DM") if kind == "dm" else (4, "a post")))
        if refused is not None:
            return refused
        try:
            if kind == "dm":
                return await self._send_dm(outbound)
            if kind == "mention":
                return await self._send_thread(outbound)
        except TooManyRequests as exc:
            return DeliveryResult.failed(
                error_detail(exc),
                retryable=True,
                retry_after_seconds=seconds_until(exc.reset_time, RETRY_MARGIN_SECONDS) or None,
            )
        except TwitterServerError as exc:
            return DeliveryResult.failed(error_detail(exc), retryable=True)
        except Forbidden as exc:
            # A DM refused with 403 means the person does not accept DMs from us.
            return DeliveryResult.failed(error_detail(exc), unreachable=kind == "dm")
        except HTTPException as exc:
            return DeliveryResult.failed(error_detail(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return DeliveryResult.failed(f"X API unreachable: {exc!r}", retryable=True)
        except ChorusError as exc:  # the media store could not read a file
            return DeliveryResult.failed(exc.message, retryable=exc.status >= 500)
        return DeliveryResult.failed(f"conversation has no X route (kind {kind!r})")

    async def _upload(self, outbound: OutboundMessage, *, for_dm: bool) -> list[str]:
        """Upload the reply's images; their media ids (X keeps them 24 hours)."""
        images = [a for a in outbound.attachments if _uploadable(a)]
        if images and self.media is None:
            raise ChorusError("this hub runs without a media store", status=400)
        ids = []
        for image in images:
            assert self.media is not None
            data = await self.media.read(image, "file")
            ids.append(await self.client.upload_image(data, image.mime_type, for_dm=for_dm))
        return ids

    async def _send_dm(self, outbound: OutboundMessage) -> DeliveryResult:
        text = _text_with_links(outbound)[:DM_LIMIT]
        media_ids = await self._upload(outbound, for_dm=True)
        extra: dict[str, Any] = {"media_id": media_ids[0]} if media_ids else {}
        body: dict[str, Any] = await self.client.create_direct_message(
            participant_id=str(outbound.route["participant_id"]),
            text=text or None,
            user_auth=True,
            **extra,
        )
        return DeliveryResult.sent(str(body["data"]["dm_event_id"]))

    async def _send_thread(self, outbound: OutboundMessage) -> DeliveryResult:
        progress_key = f"twitter:outbound:{outbound.message_id}"
        posted: list[str] = list(await self.state.load_checkpoint(progress_key) or [])
        # Counting runs twitter-text's regular expressions over every part: off the loop.
        parts = await asyncio.to_thread(split_thread, _text_with_links(outbound))
        first_target = str(outbound.route["reply_to"])
        conversation_id = await self.state.conversation_for("twitter", "tweet", first_target)
        for part in parts[len(posted) :]:
            reply_to = posted[-1] if posted else first_target
            # The images ride on the thread's first post, uploaded only while it is unposted.
            media_ids = None if posted else await self._upload(outbound, for_dm=False) or None
            body: dict[str, Any] = await self.client.create_tweet(
                text=part or None,
                in_reply_to_tweet_id=reply_to,
                media_ids=media_ids,
                user_auth=True,
            )
            posted.append(str(body["data"]["id"]))
            await self.state.save_checkpoint(progress_key, posted)
            if conversation_id is not None:
                # Replies to our tweets (seen by webhooks without conversation_id) find
                # their conversation through this link.
                await self.state.link(conversation_id, "twitter", "tweet", posted[-1])
        return DeliveryResult.sent(posted[0])
