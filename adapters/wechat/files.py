"""Agents' files to WeChat customers: uploaded as temporary media, then sent by media id.

An Official Account's customer-service API has image and voice messages but no file
message, and ``/cgi-bin/media/upload`` takes images (PNG, JPEG, GIF up to 10 MB) and voice
(AMR, MP3 up to 2 MB, 60 seconds) for them. Anything else (a PDF, a video without its
thumbnail) is refused before a byte goes out, with a reason the agent can act on. Each file
is claimed like Telegram's, so a retry sends only the files still missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from adapters.wechat.api import MediaKind, WeChatApi, WeChatError, delivery_failure
from hub.channels.port import ChannelState, MediaPort
from hub.domain import Attachment, DeliveryResult, OutboundMessage
from hub.errors import ChorusError

MB = 1024 * 1024
# What WeChat's temporary media takes for each message kind: content types and size.
ACCEPTED: dict[MediaKind, tuple[frozenset[str], int]] = {
    "image": (frozenset({"image/jpeg", "image/png", "image/gif"}), 10 * MB),
    "voice": (frozenset({"audio/amr", "audio/mpeg"}), 2 * MB),
}
ACCEPTED_WORDS = "JPG, PNG or GIF images up to 10 MB and AMR or MP3 voice up to 2 MB"


@dataclass(frozen=True)
class PlannedFile:
    attachment: Attachment
    kind: MediaKind


def kind_for(attachment: Attachment) -> MediaKind | None:
    """The message kind a stored file goes out as, or None when WeChat takes it as none."""
    for kind, (types, limit) in ACCEPTED.items():
        if attachment.mime_type in types and (attachment.size or 0) <= limit:
            return kind
    return None


def plan(files: Sequence[Attachment]) -> list[PlannedFile] | DeliveryResult:
    """Each file with its message kind; a failed result naming the first that WeChat would
    refuse, so nothing of a reply goes out when one of its files cannot."""
    planned = []
    for attachment in files:
        kind = kind_for(attachment)
        if kind is None:
            name = attachment.name or "the file"
            return DeliveryResult.failed(
                f"WeChat cannot carry {name} ({attachment.mime_type}): an Official Account"
                f" sends only {ACCEPTED_WORDS}; send a link to the file"
            )
        planned.append(PlannedFile(attachment, kind))
    return planned


async def send_files(
    api: WeChatApi,
    state: ChannelState,
    media: MediaPort,
    outbound: OutboundMessage,
    openid: str,
    files: Sequence[PlannedFile],
) -> DeliveryResult:
    """Upload and send each file in order; the first failure ends the reply with its reason
    (the files already sent stay claimed, so a retry does not send them twice)."""
    for index, item in enumerate(files):
        claim = f"sent:{outbound.message_id}:file{index}"
        if not await state.first_sighting("wechat", claim):
            continue
        attachment = item.attachment
        try:
            data = await media.read(attachment, "file")
            media_id = await api.upload_media(
                item.kind, data, attachment.name or "file", attachment.mime_type
            )
            await api.send_media(openid, item.kind, media_id)
        except ChorusError as exc:  # the media store could not read the file
            await state.forget_sighting("wechat", claim)
            return DeliveryResult.failed(exc.message, retryable=exc.status >= 500)
        except (WeChatError, aiohttp.ClientError, TimeoutError) as exc:
            await state.forget_sighting("wechat", claim)
            return delivery_failure(exc)
    return DeliveryResult.sent()
