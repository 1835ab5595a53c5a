"""The media store: files on messages, their bytes in an object store, a record in MongoDB.

Bytes go to the same kind of store as archives (a local directory or S3, see
``storage.archive_store``) under their content hash, so a file sent twice is kept once.
The record is written only after the bytes (and the thumbnail) are stored: a record never
points at something missing, and a refused or failed upload leaves no record to reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.domain import Attachment, AttachmentKind, new_id, utcnow
from storage.archive_store import ArchiveStore, ObjectMissing, sha256_hex
from storage.errors import StorageBoundary
from storage.mongo import MongoStore


class MediaMissing(Exception):
    """No such media record, or its bytes are gone."""


@dataclass(frozen=True, slots=True)
class MediaFile:
    """What the hub checked about a file before storing it."""

    data: bytes
    name: str
    mime_type: str
    kind: AttachmentKind
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None


@dataclass(frozen=True, slots=True)
class MediaRecord:
    """One stored file: its attachment, and whom it was stored for."""

    attachment: Attachment
    owner: str
    conversation_id: str | None
    created_at: datetime


def _object_key(data: bytes, suffix: str = "") -> tuple[str, str]:
    digest = sha256_hex(data)
    return f"media/{digest[:2]}/{digest}{suffix}", digest


class MediaStore(StorageBoundary):
    """Stores checked files and finds them again by media id."""

    def __init__(self, mongo: MongoStore, objects: ArchiveStore) -> None:
        self.records = mongo.collection("media")
        self.objects = objects

    async def _put_once(self, key: str, data: bytes, digest: str) -> None:
        existing = await self.objects.head(key)
        if existing is None or existing.sha256.strip() != digest:
            await self.objects.put(key, data)

    async def put(self, file: MediaFile, *, owner: str, conversation_id: str | None) -> MediaRecord:
        """Write the bytes and thumbnail, then the record that references them."""
        key, digest = _object_key(file.data)
        await self._put_once(key, file.data, digest)
        thumbnail_key = None
        if file.thumbnail is not None:
            thumbnail_key, thumb_digest = _object_key(file.thumbnail, ".thumb")
            await self._put_once(thumbnail_key, file.thumbnail, thumb_digest)
        attachment = Attachment(
            kind=file.kind,
            name=file.name,
            mime_type=file.mime_type,
            size=len(file.data),
            storage_key=key,
            media_id=new_id(),
            sha256=digest,
            thumbnail_key=thumbnail_key,
            width=file.width,
            height=file.height,
        )
        record = MediaRecord(attachment, owner, conversation_id, utcnow())
        await self.records.insert_one(
            {
                "_id": attachment.media_id,
                "attachment": attachment.model_dump(mode="json"),
                "owner": owner,
                "conversation_id": conversation_id,
                "created_at": record.created_at,
            }
        )
        return record

    async def get(self, media_id: str) -> MediaRecord | None:
        doc: dict[str, Any] | None = await self.records.find_one({"_id": media_id})
        if doc is None:
            return None
        return MediaRecord(
            Attachment.model_validate(doc["attachment"]),
            doc["owner"],
            doc.get("conversation_id"),
            doc["created_at"],
        )

    async def read(self, attachment: Attachment, *, thumbnail: bool = False) -> bytes:
        """The file's bytes (or its thumbnail's), checked against their SHA-256."""
        key = attachment.thumbnail_key if thumbnail else attachment.storage_key
        if key is None:
            raise MediaMissing(
                f"{attachment.media_id} has no {'thumbnail' if thumbnail else 'file'}"
            )
        try:
            return await self.objects.get(key, None if thumbnail else attachment.sha256)
        except ObjectMissing as exc:
            raise MediaMissing(key) from exc
