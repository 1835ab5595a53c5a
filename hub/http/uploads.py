"""Reading ``multipart/form-data`` uploads, bounded: files and short text fields.

Each file part is read in chunks and refused as soon as it passes the limit, so an
oversized upload is never buffered whole. Kept apart from ``hub.http.json_api`` so adapters can use
it (the web chat's upload endpoint) without the database driver's errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

from hub.errors import BadRequest, ChorusError, PayloadTooLarge

MAX_FIELD_BYTES = 65_536


@dataclass(frozen=True)
class UploadedFile:
    name: str
    data: bytes


@dataclass
class Upload:
    """A form's files (in order) and its text fields."""

    files: list[UploadedFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def is_multipart(request: web.Request) -> bool:
    return request.content_type == "multipart/form-data"


async def _read_part(part: BodyPartReader, limit: int, what: str) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(65_536):
        data.extend(chunk)
        if len(data) > limit:
            raise PayloadTooLarge(f"{what} is larger than {limit} bytes", code="file_too_large")
    return bytes(data)


async def read_upload(
    request: web.Request, *, max_file_bytes: int, max_files: int, file_field: str = "file"
) -> Upload:
    """The form's parts; files are the parts named ``file_field``."""
    if not is_multipart(request):
        raise ChorusError(
            "send the file as multipart/form-data", code="unsupported_media_type", status=415
        )
    upload = Upload()
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                raise BadRequest("nested or unnamed form parts are not accepted")
            if part.name == file_field:
                if len(upload.files) >= max_files:
                    raise BadRequest(f"at most {max_files} files", code="too_many_files")
                data = await _read_part(part, max_file_bytes, "the file")
                upload.files.append(UploadedFile(part.filename or "", data))
            elif part.name in upload.fields:
                raise BadRequest(f"form field {part.name} given twice")
            else:
                raw = await _read_part(part, MAX_FIELD_BYTES, f"form field {part.name}")
                upload.fields[part.name] = raw.decode("utf-8", "replace")
    except (ValueError, AssertionError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the form does not parse: {exc}", code="invalid_form") from None
    return upload
