"""Reading a request body whole and bounded, for webhooks that verify the exact bytes.

Kept apart from ``hub.http.json_api`` so adapters can use it without importing what the error
middleware needs (the database driver's errors).
"""

from __future__ import annotations

from aiohttp import web

from hub.errors import PayloadTooLarge


async def read_limited(request: web.Request, max_bytes: int, what: str = "the body") -> bytes:
    """The whole body, however many writes it came in, refusing more than ``max_bytes``
    before buffering it all (one ``content.read(n)`` may return only its first part)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"{what} is larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(65_536):
        body.extend(chunk)
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"{what} is larger than {max_bytes} bytes")
    return bytes(body)
