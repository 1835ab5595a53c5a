"""Reading a request body whole and bounded, for webhooks that verify the exact bytes."""

from __future__ import annotations

from aiohttp import web

from hub.errors import PayloadTooLarge


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The whole body, however it was split on the wire, refused past ``max_bytes``."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(65_536):
        body.extend(chunk)
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes")
    return bytes(body)
