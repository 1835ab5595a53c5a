"""Files through the API: uploads for a conversation, and the signed download route.

``POST /api/v1/conversations/{id}/attachments`` stores one file for the conversation and
answers its attachment (with its ``media_id``), which a reply then names; the reply
endpoint also takes files directly as ``multipart/form-data``. Downloads are served at
``/media/{media_id}/{variant}`` to whoever holds a link the hub signed, which it does
only in answers about messages the caller may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hub.api.privacy import HOLDERS
from hub.api.routes import ANY_ROLE, API_ROUTES
from hub.core.media import MEDIA, MEDIA_PATH, VARIANTS, MediaPersonalData, MediaService
from hub.domain import Attachment, Message
from hub.errors import BadRequest, Forbidden, NotFound
from hub.http.uploads import UploadedFile, read_upload
from hub.state import HUB

# Files uploaded through the API belong to their conversation, whichever agent sent them.
API_OWNER = "api"
MAX_FILES = 10


class AttachmentForm(BaseModel):
    """``multipart/form-data`` with one part named ``file``."""

    model_config = ConfigDict(extra="forbid")

    file: bytes = Field(description="The file; its type is read from its content")


class StoredAttachment(Attachment):
    """An attachment the hub holds, with links valid for ``media.url_ttl_seconds``."""

    download_url: str | None = None
    thumbnail_url: str | None = None


class MessageView(Message):
    """A message as the API answers it: stored files with their signed links."""

    attachments: tuple[StoredAttachment, ...] = ()


def media_of(request: web.Request) -> MediaService:
    return request.app[MEDIA]


def attachments_json(request: web.Request, attachments: Sequence[Attachment]) -> list[Any]:
    """Attachments as a caller who may see their message gets them: with signed links."""
    return media_of(request).with_links(attachments)


async def keep_files(
    request: web.Request, conversation_id: str, files: Sequence[UploadedFile]
) -> list[Attachment]:
    """Check every file, then store them all for the conversation (none if one is refused)."""
    media = media_of(request)
    return await media.keep_all(
        [(f.data, f.name) for f in files], owner=API_OWNER, conversation_id=conversation_id
    )


async def resolve(
    request: web.Request, conversation_id: str, attachments: Sequence[Attachment]
) -> list[Attachment]:
    """A reply's attachments: links as given, stored files by their ``media_id`` (uploaded
    for this conversation). Storage fields from the caller are refused: only the hub
    says where a file is kept."""
    resolved: list[Attachment] = []
    for attachment in attachments:
        if attachment.media_id is not None:
            resolved.extend(
                await media_of(request).owned([attachment.media_id], API_OWNER, conversation_id)
            )
        elif attachment.storage_key or attachment.thumbnail_key or attachment.sha256:
            raise BadRequest(
                "name a stored file by its media_id (from POST .../attachments)",
                code="invalid_attachment",
            )
        else:
            resolved.append(attachment)
    return resolved


async def upload_attachment(request: web.Request) -> web.Response:
    conversation = await request.app[HUB].require_conversation(request.match_info["id"])
    media = media_of(request)
    upload = await read_upload(request, max_file_bytes=media.config.max_bytes, max_files=1)
    if len(upload.files) != 1 or set(upload.fields):
        raise BadRequest("send exactly one form part, named file", code="invalid_form")
    stored = await keep_files(request, conversation.id, upload.files)
    return web.json_response(attachments_json(request, stored)[0], status=201)


def _disposition(attachment: Attachment, variant: str) -> str:
    inline = variant == "thumbnail" or attachment.kind == "image"
    return f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(attachment.name)}"


async def download(request: web.Request) -> web.Response:
    """A signed link's file: 403 for a forged or expired link, never a listing."""
    media = media_of(request)
    media_id, variant = request.match_info["media_id"], request.match_info["variant"]
    expires, sig = request.query.get("expires", ""), request.query.get("sig", "")
    if variant not in VARIANTS or not media.valid(media_id, variant, expires, sig):
        raise Forbidden("this link is not valid or has expired", code="invalid_link")
    record = await media.record(media_id)
    if record is None:
        raise NotFound("the file is not available", code="media_missing")
    attachment = record.attachment
    data = await media.read(attachment, "thumbnail" if variant == "thumbnail" else "file")
    content_type = attachment.mime_type
    if variant == "thumbnail":
        content_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return web.Response(
        body=data,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": _disposition(attachment, variant),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": f"private, max-age={media.config.url_ttl_seconds}",
        },
    )


def setup(app: web.Application) -> None:
    # Erasure deletes the contact's files (``hub.privacy.requests``).
    app.setdefault(HOLDERS, []).append(MediaPersonalData(app[MEDIA].store))
    app.router.add_get(MEDIA_PATH + "/{media_id}/{variant}", download)
    app[API_ROUTES].add(
        "POST",
        "/conversations/{id}/attachments",
        upload_attachment,
        roles=ANY_ROLE,
        summary="Upload a file for a reply in this conversation; the reply names its media_id",
        form=AttachmentForm,
        response=StoredAttachment,
        status=201,
    )
