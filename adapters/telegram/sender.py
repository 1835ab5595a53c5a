"""Outbound to Telegram: split long texts, send them, and map Bot API errors to outcomes.

Texts go out as plain text (no ``parse_mode``), so nothing an agent types can be read as
markup and nothing needs escaping. Telegram caps a message's length (PTB's
``MessageLimit.MAX_TEXT_LENGTH``, 4096); longer replies are split on paragraph, then line,
then word boundaries.
"""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram import Bot, InputFile
from telegram.constants import MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from hub.channels.port import ChannelState, MediaPort
from hub.domain import Attachment, DeliveryResult, OutboundMessage
from hub.errors import ChorusError

MAX_MESSAGE_CHARS: int = MessageLimit.MAX_TEXT_LENGTH
_BOUNDARIES = ("\n\n", "\n", " ")


def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), so emoji never overflow a part."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The longest prefix of ``text`` (in characters) within ``limit`` UTF-16 units."""
    if _units(text) <= limit:
        return len(text)
    cut = min(len(text), limit)
    while _units(text[:cut]) > limit:
        cut -= 1
    return cut


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split ``text`` into parts of at most ``limit``, preferring natural boundaries."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        cut = _fit(rest, limit)
        if cut == len(rest):
            parts.append(rest)
            break
        head = rest[:cut]
        for boundary in _BOUNDARIES:
            at = head.rfind(boundary)
            # A boundary in the first quarter would leave a tiny part; cut harder instead.
            if at > limit // 4:
                head = head[:at]
                break
        parts.append(head.rstrip())
        rest = rest[len(head) :].lstrip()
    return parts


def retry_after_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        # PTB 22 warns that the attribute will become a timedelta; both are handled.
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def delivery_failure(exc: TelegramError) -> DeliveryResult:
    """What a Bot API error means for the message: retry later, give up, or unreachable."""
    if isinstance(exc, RetryAfter):
        seconds = retry_after_seconds(exc)
        return DeliveryResult.failed(
            f"rate limited by Telegram for {seconds:g}s",
            retryable=True,
            retry_after_seconds=seconds,
        )
    if isinstance(exc, Forbidden):  # the user blocked the bot or deleted their account
        return DeliveryResult.failed(exc.message, unreachable=True)
    if isinstance(exc, TimedOut):
        return DeliveryResult.failed("Telegram did not answer in time", retryable=True)
    if isinstance(exc, BadRequest | ChatMigrated):
        return DeliveryResult.failed(exc.message)
    if isinstance(exc, InvalidToken):
        # A configuration fault: keep the message and retry, an operator can fix the token.
        return DeliveryResult.failed("the bot token was rejected", retryable=True)
    if isinstance(exc, NetworkError):  # 5xx answers and connection failures
        return DeliveryResult.failed(exc.message, retryable=True)
    return DeliveryResult.failed(exc.message)


async def send_text(
    bot: Bot, state: ChannelState, outbound: OutboundMessage, chat_id: int | str
) -> DeliveryResult:
    """Send every part of the text; parts already sent by an earlier attempt are skipped.

    A part is claimed in the channel state before it is sent and released when sending
    fails, so a retry after a partial failure neither repeats nor drops a part.
    """
    parts = split_text(outbound.text)
    if not parts:
        return DeliveryResult.failed("nothing to send: the message has no text")
    platform_ids: list[str] = []
    for index, part in enumerate(parts):
        claim = f"sent:{outbound.message_id}:{index}"
        if len(parts) > 1 and not await state.first_sighting("telegram", claim):
            continue
        try:
            sent = await bot.send_message(chat_id=chat_id, text=part)
        except TelegramError as exc:
            if len(parts) > 1:
                await state.forget_sighting("telegram", claim)
            return delivery_failure(exc)
        platform_ids.append(f"{chat_id}:{sent.message_id}")
    return DeliveryResult.sent(",".join(platform_ids) or None)


async def send_files(
    bot: Bot,
    state: ChannelState,
    media: MediaPort,
    outbound: OutboundMessage,
    chat_id: int | str,
    files: list[Attachment],
) -> DeliveryResult:
    """Send each stored file: images with ``sendPhoto``, anything else with
    ``sendDocument``. Each is claimed like a text part, so a retry sends only the rest."""
    platform_ids: list[str] = []
    for index, attachment in enumerate(files):
        claim = f"sent:{outbound.message_id}:file{index}"
        if not await state.first_sighting("telegram", claim):
            continue
        try:
            data = await media.read(attachment, "file")
            upload = InputFile(data, filename=attachment.name or "file")
            if attachment.kind == "image":
                sent = await bot.send_photo(chat_id=chat_id, photo=upload)
            else:
                sent = await bot.send_document(chat_id=chat_id, document=upload)
        except TelegramError as exc:
            await state.forget_sighting("telegram", claim)
            return delivery_failure(exc)
        except ChorusError as exc:  # the media store could not read the file
            await state.forget_sighting("telegram", claim)
            return DeliveryResult.failed(exc.message, retryable=exc.status >= 500)
        platform_ids.append(f"{chat_id}:{sent.message_id}")
    return DeliveryResult.sent(",".join(platform_ids) or None)
