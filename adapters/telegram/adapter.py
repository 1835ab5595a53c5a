"""``TelegramAdapter``: Bot API updates in (webhook or polling), replies out through ``Bot``.

python-telegram-bot is used as the API client only; the webhook is a route of the hub's
own aiohttp app. Each update is stored before it is acknowledged (webhook: before the 200;
polling: before the offset moves); the bot and routing react afterwards through the hub's
event bus, outside the request.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from adapters.telegram.config import TelegramConfig
from adapters.telegram.normalize import NormalizedUpdate, TelegramFile, normalize_update
from adapters.telegram.polling import UpdatePoller
from adapters.telegram.sender import send_files, send_text
from adapters.telegram.webhook import verified_update
from hub.channels.port import HubPort
from hub.domain import Author, Channel, Conversation, DeliveryResult, Message, OutboundMessage
from hub.errors import ChorusError, StorageUnavailable

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram"

# Called after a message with files is stored: the hook for keeping the files themselves
# (``TelegramAdapter.download`` fetches one). By default they go to the hub's media store.
FileHook = Callable[[Message, Sequence[TelegramFile]], Coroutine[Any, Any, None]]


def make_bot(config: TelegramConfig) -> Bot:
    """A ``Bot`` client pointed at the configured API and file bases."""
    timeout = config.request_timeout_seconds
    return Bot(
        config.bot_token.get_secret_value(),
        base_url=config.api_base_url,
        base_file_url=config.file_base_url,
        request=HTTPXRequest(read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout),
        get_updates_request=HTTPXRequest(
            read_timeout=timeout, write_timeout=timeout, connect_timeout=timeout
        ),
    )


class TelegramAdapter:
    """The Telegram channel."""

    channel: Channel = "telegram"

    def __init__(self, config: TelegramConfig, hub: HubPort, bot: Bot | None = None) -> None:
        self.config = config
        self.hub = hub
        self.bot = bot or make_bot(config)
        self.on_files: FileHook | None = self.keep_files if hub.media is not None else None
        self.unsupported: Counter[str] = Counter()
        self.poller: UpdatePoller | None = None
        self._file_tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        if self.config.mode != "webhook":
            return []
        verify = verified_update(
            self.config.webhook_secret.get_secret_value(), self.config.max_body_bytes
        )
        return [web.post(WEBHOOK_PATH, verify(self.handle_update))]

    async def start(self) -> None:
        try:
            await self.bot.initialize()
        except InvalidToken:
            raise RuntimeError("telegram.bot_token was rejected by the Bot API") from None
        except TelegramError as exc:
            # Telegram unreachable at start-up: keep going, sends and polls retry later.
            log.warning("telegram getMe failed at start", extra={"error": type(exc).__name__})
        if self.config.mode == "polling":
            self.poller = UpdatePoller(
                self.bot,
                self.hub.channel_state,
                self.process_update,
                self.config.poll_timeout_seconds,
                self.config.request_timeout_seconds,
            )
            self.poller.start()

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
            self.poller = None
        if self._file_tasks:
            await asyncio.wait(set(self._file_tasks), timeout=5)
        await self.bot.shutdown()

    async def handle_update(self, update: dict[str, Any]) -> web.Response:
        """The webhook: store the update, then answer 200 (503 makes Telegram retry)."""
        if not await self.process_update(update):
            raise StorageUnavailable("the update was not stored; retry")
        return web.json_response({"ok": True})

    async def process_update(self, update: dict[str, Any]) -> bool:
        """Store one update once; False when it could not be stored and must come again.

        Dedupe is twofold: the ``update_id`` is claimed in the channel state (a retried
        delivery), and the message's own id is unique in the inbox (the same message in
        a different update, or a claim that expired).
        """
        key = f"update:{update['update_id']}"
        if not await self.hub.channel_state.first_sighting("telegram", key):
            log.info("duplicate telegram update ignored", extra={"update": key})
            return True
        try:
            await self._store(normalize_update(update))
        except Exception:
            log.exception("telegram update not stored", extra={"update": key})
            await self.hub.channel_state.forget_sighting("telegram", key)
            return False
        return True

    async def _store(self, normalized: NormalizedUpdate) -> None:
        inbound = normalized.inbound
        if normalized.kind == "unsupported" or inbound is None:
            self.unsupported[normalized.label] += 1
            self.hub.metrics.skipped("telegram", normalized.label)
            log.info("telegram update skipped", extra={"reason": normalized.label})
            return
        if normalized.kind == "edit":
            edited = await self.hub.edit_message(
                "telegram", inbound.external_id, inbound.text, inbound.raw
            )
            if edited is not None:
                return
            # An edit of a message never seen (sent before the bot was added, say): keep it.
        result = await self.hub.receive(inbound)
        if normalized.files and not result.duplicate and self.on_files is not None:
            # After the write and outside the request: fetching files may be slow.
            task = asyncio.get_running_loop().create_task(
                self.on_files(result.message, normalized.files)
            )
            self._file_tasks.add(task)
            task.add_done_callback(self._file_tasks.discard)

    async def keep_files(self, message: Message, files: Sequence[TelegramFile]) -> None:
        """Fetch each file with ``getFile`` and hand it to the hub's media store; a file
        that cannot be fetched or is refused keeps its metadata only (and is logged)."""
        media = self.hub.media
        if media is None:
            return
        owner = f"telegram:{message.contact_id}"
        for index, item in enumerate(files):
            size = item.attachment.size
            if size is not None and size > media.max_bytes:
                log.info("telegram file too large to keep", extra={"size": size})
                continue
            try:
                data = await self.download(item.file_id)
                kept = await media.keep(
                    data, item.attachment.name, owner=owner, conversation_id=message.conversation_id
                )
                await media.attach_to_message(message.id, index, kept)
            except (TelegramError, ChorusError) as exc:
                log.warning("telegram file not kept", extra={"error": type(exc).__name__})

    async def download(self, file_id: str) -> bytes:
        """A customer's file, fetched with ``getFile`` and the file download URL."""
        file = await self.bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    async def send(self, outbound: OutboundMessage) -> DeliveryResult:
        chat_id = outbound.route.get("chat_id") or outbound.recipient_id
        if not chat_id:
            return DeliveryResult.failed("the conversation has no Telegram chat id")
        files = [a for a in outbound.attachments if a.media_id is not None]
        if files and self.hub.media is not None:
            sent_files = await send_files(
                self.bot, self.hub.channel_state, self.hub.media, outbound, chat_id, files
            )
            if not sent_files.ok or not outbound.text.strip():
                return sent_files
            sent_text = await send_text(self.bot, self.hub.channel_state, outbound, chat_id)
            if not sent_text.ok:
                return sent_text
            ids = [i for i in (sent_files.platform_id, sent_text.platform_id) if i]
            return DeliveryResult.sent(",".join(ids) or None)
        return await send_text(self.bot, self.hub.channel_state, outbound, chat_id)

    async def show_typing(self, conversation: Conversation, author: Author) -> None:
        """``sendChatAction typing``: Telegram shows it for five seconds or until a message."""
        chat_id = conversation.route.get("chat_id") or conversation.recipient_id
        if not chat_id:
            return
        try:
            await self.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        except TelegramError as exc:
            log.info("telegram typing not shown", extra={"error": type(exc).__name__})
