"""Files on messages: checked by content, stored once, downloaded through signed links.

A file's type is read from its bytes (``filetype``'s magic numbers, then Pillow for
images), never from its name, and must be one of ``media.allowed_types``; an image must
decode and stay under ``media.max_image_pixels``, and gets a thumbnail. Decoding and
resizing run in a worker thread. Nothing is stored for a refused file.

Downloads are hub URLs ``/media/{id}/{variant}?expires=…&sig=…``: an HMAC-SHA256 over the
id, the variant and the expiry, valid for ``media.url_ttl_seconds``. They are minted only
for messages the caller may see, so access follows the message's visibility.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import PurePath
from typing import Any, Literal
from urllib.parse import unquote

import filetype
from aiohttp import web
from PIL import Image, ImageOps, UnidentifiedImageError

from hub.config.model import MediaConfig, S3ArchiveConfig
from hub.domain import Attachment, AttachmentKind, Message
from hub.errors import ChorusError, NotFound, PayloadTooLarge
from storage.archive_store import (
    ArchiveStore,
    ArchiveStoreError,
    LocalArchiveStore,
    S3ArchiveStore,
)
from storage.inbox import InboxStore
from storage.media import MediaFile, MediaMissing, MediaRecord, MediaStore
from storage.mongo import MongoStore

log = logging.getLogger(__name__)

Variant = Literal["file", "thumbnail"]
VARIANTS: tuple[Variant, ...] = ("file", "thumbnail")
MEDIA_PATH = "/media"
# Executables are refused whatever ``allowed_types`` says.
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce", b"#!/")


class MediaUnavailable(ChorusError):
    """The object store failed (or holds damaged bytes): try again later."""

    code = "media_unavailable"
    status = 503


class MediaRefused(ChorusError):
    """A file the hub will not keep: its type (by content) is not allowed."""

    code = "unsupported_media_type"
    status = 415


def open_objects(store: str, local_dir: Any, s3: S3ArchiveConfig) -> ArchiveStore:
    """The media store's object backend: the same two kinds as the archive store."""
    if store == "s3":
        return S3ArchiveStore(s3)
    return LocalArchiveStore(local_dir)


class MediaPersonalData:
    """The media store as a ``hub.privacy.requests.PersonalDataHolder``: erasing a contact deletes
    the files on their messages and those they uploaded, except a file (kept once per
    SHA-256) that someone else's message also holds."""

    name = "media"

    def __init__(self, store: MediaStore) -> None:
        self.store = store

    async def erase(self, contact: dict[str, Any], attachments: list[dict[str, Any]]) -> int:
        media_ids = [a["media_id"] for a in attachments if a.get("media_id")]
        # Uploads are stored for the platform identity that sent them (``web:<visitor>``).
        return await self.store.forget(media_ids, list(contact.get("identity_keys") or []))


def media_personal_data(config: MediaConfig, mongo: MongoStore) -> MediaPersonalData:
    """The holder for a process without the app (``chorus contact erase``)."""
    objects = open_objects(config.store, config.local_dir, config.s3)
    return MediaPersonalData(MediaStore(mongo, objects))


def _kind(mime_type: str) -> AttachmentKind:
    major = mime_type.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major  # type: ignore[return-value]
    return "file"


def _safe_name(name: str, mime_type: str) -> str:
    # Form clients percent-encode some characters of a part's filename (quotes, slashes).
    base = PurePath(unquote(name).replace("\\", "/")).name.strip()[:200]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>')
    known = filetype.get_type(mime=mime_type)
    return cleaned or (f"file.{known.extension}" if known is not None else "file")


class MediaService:
    """Checks, stores, reads and signs links to files on messages."""

    def __init__(
        self,
        config: MediaConfig,
        store: MediaStore,
        secret: str,
        clock: Callable[[], float] = time.time,
        *,
        inbox: InboxStore | None = None,
        on_attached: Callable[[Message], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.inbox = inbox  # where a fetched file joins its message
        # Told of a message whose fetched file joined it, so open inboxes show it now.
        self.on_attached = on_attached
        self._key = hmac.new(secret.encode(), b"chorus media links", hashlib.sha256).digest()
        self.clock = clock

    @property
    def max_bytes(self) -> int:
        return self.config.max_bytes

    # -- checking --------------------------------------------------------------------

    def check(self, data: bytes, name: str) -> MediaFile:
        """The file as the hub will keep it, or ``MediaRefused``/``PayloadTooLarge``.
        CPU-bound for images (decode, thumbnail): call it through ``asyncio.to_thread``."""
        if len(data) > self.config.max_bytes:
            raise PayloadTooLarge(
                f"files are limited to {self.config.max_bytes} bytes", code="file_too_large"
            )
        if not data:
            raise MediaRefused("the file is empty", code="empty_file")
        if data.startswith(_EXECUTABLE_MAGIC):
            raise MediaRefused("executable files are not accepted")
        guess = filetype.guess(data)
        mime_type = guess.mime if guess is not None else None
        if mime_type not in self.config.allowed_types:
            found = mime_type or "an unknown type"
            raise MediaRefused(
                f"the file's content is {found}; accepted: {', '.join(self.config.allowed_types)}"
            )
        safe = _safe_name(name, mime_type)
        if not mime_type.startswith("image/"):
            return MediaFile(data, safe, mime_type, _kind(mime_type))
        return self._image(data, safe, mime_type)

    def _image(self, data: bytes, name: str, mime_type: str) -> MediaFile:
        size = self.config.thumbnail_px
        try:
            # Opening reads the header only: the size is checked before any pixel is decoded.
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                if width * height > self.config.max_image_pixels:
                    raise MediaRefused("the image has too many pixels", code="image_too_large")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                # Shrink first (a JPEG is decoded at reduced scale), then turn upright: a
                # phone photo carries its rotation in EXIF; the bounding box is a square.
                image.thumbnail((size, size), reducing_gap=1.0)
                upright = ImageOps.exif_transpose(image)
                mode = "RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") else "RGB"
                thumb = upright.convert(mode)
                out = io.BytesIO()
                thumb.save(out, format="PNG" if mode == "RGBA" else "JPEG")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
                Image.DecompressionBombError) as exc:  # fmt: skip
            raise MediaRefused(f"the image does not decode: {exc}", code="invalid_image") from None
        return MediaFile(data, name, mime_type, "image", width, height, out.getvalue())

    async def keep(
        self, data: bytes, name: str, *, owner: str, conversation_id: str | None = None
    ) -> Attachment:
        """Check a file off the event loop, then store it; the stored attachment."""
        (stored,) = await self.keep_all(
            [(data, name)], owner=owner, conversation_id=conversation_id
        )
        return stored

    async def keep_all(
        self, files: Sequence[tuple[bytes, str]], *, owner: str, conversation_id: str | None
    ) -> list[Attachment]:
        """Check every file first, then store them: one refused file stores none."""
        checked = [await asyncio.to_thread(self.check, data, name) for data, name in files]
        stored = []
        try:
            for file in checked:
                record = await self.store.put(file, owner=owner, conversation_id=conversation_id)
                stored.append(record.attachment)
        except ArchiveStoreError as exc:
            log.warning("media not stored", extra={"error": type(exc).__name__})
            raise MediaUnavailable("the file could not be stored; send it again") from exc
        return stored

    async def attach_to_message(self, message_id: str, index: int, attachment: Attachment) -> None:
        """Record that attachment ``index`` of a stored message is this stored file."""
        if self.inbox is None:
            raise RuntimeError("this media service was built without the inbox")
        message = await self.inbox.set_attachment(message_id, index, attachment)
        if message is not None and self.on_attached is not None:
            await self.on_attached(message)

    async def owned(
        self, media_ids: Iterable[str], owner: str, conversation_id: str | None
    ) -> list[Attachment]:
        """The stored attachments for ``media_ids``, each uploaded by ``owner`` (and, when
        given, for ``conversation_id``); ``NotFound`` for any other, so ids leak nothing."""
        found = []
        for media_id in media_ids:
            record = await self.store.get(media_id)
            if (
                record is None
                or record.owner != owner
                or (conversation_id is not None and record.conversation_id != conversation_id)
            ):
                raise NotFound(f"attachment {media_id} not found", code="unknown_attachment")
            found.append(record.attachment)
        return found

    async def record(self, media_id: str) -> MediaRecord | None:
        return await self.store.get(media_id)

    async def read(self, attachment: Attachment, variant: Variant) -> bytes:
        try:
            return await self.store.read(attachment, thumbnail=variant == "thumbnail")
        except MediaMissing as exc:
            raise NotFound("the file is not available", code="media_missing") from exc
        except ArchiveStoreError as exc:  # damaged bytes (checksum), or S3 failing
            log.warning("media unreadable", extra={"media_id": attachment.media_id})
            raise MediaUnavailable("the file cannot be read now") from exc

    # -- links -----------------------------------------------------------------------

    def _signature(self, media_id: str, variant: str, expires: int) -> str:
        message = f"{media_id}\n{variant}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def link(self, media_id: str, variant: Variant = "file") -> str:
        """A hub path that serves the file for ``media.url_ttl_seconds``."""
        expires = int(self.clock()) + self.config.url_ttl_seconds
        sig = self._signature(media_id, variant, expires)
        return f"{MEDIA_PATH}/{media_id}/{variant}?expires={expires}&sig={sig}"

    def valid(self, media_id: str, variant: str, expires: str, sig: str) -> bool:
        """Whether a link's signature is ours and it has not expired."""
        if not expires.isdigit() or len(expires) > 12:
            return False
        expected = self._signature(media_id, variant, int(expires))
        return hmac.compare_digest(expected, sig) and int(expires) >= self.clock()

    def links(self, attachment: Attachment) -> dict[str, str]:
        """``download_url`` (and ``thumbnail_url`` for images) for a stored attachment."""
        if attachment.media_id is None:
            return {}
        found = {"download_url": self.link(attachment.media_id)}
        if attachment.thumbnail_key is not None:
            found["thumbnail_url"] = self.link(attachment.media_id, "thumbnail")
        return found

    def with_links(self, attachments: Iterable[Attachment]) -> list[dict[str, Any]]:
        """Attachments as JSON for someone allowed to see their message: storage keys
        kept inside, signed links added."""
        return [
            {
                **a.model_dump(mode="json", exclude={"storage_key", "thumbnail_key"}),
                **self.links(a),
            }
            for a in attachments
        ]


MEDIA = web.AppKey("media", MediaService)
