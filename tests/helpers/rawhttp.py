"""HTTP/1.1 requests written byte for byte on a socket: for protocol rules the clients
will not break (raw header bytes, a body split across separate writes)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawResponse:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def raw_request(
    host: str,
    port: int,
    head: bytes,
    body_parts: tuple[bytes, ...] = (),
    *,
    wait_for_continue: bool = False,
) -> RawResponse:
    """Write ``head`` (request line and headers, without the blank line), then each body
    part as a write of its own, drained before the next; read the whole response.

    With ``wait_for_continue`` the request carries ``Expect: 100-continue`` and the body
    is written only once the server said ``100 Continue``, so its handler is already
    waiting for the body when the first part arrives.
    """
    reader, writer = await asyncio.open_connection(host, port)
    try:
        if wait_for_continue:
            head += b"\r\nExpect: 100-continue"
        writer.write(head + b"\r\nConnection: close\r\n\r\n")
        await writer.drain()
        if wait_for_continue:
            interim = await reader.readuntil(b"\r\n\r\n")
            assert interim.startswith(b"HTTP/1.1 100"), interim
        for part in body_parts:
            writer.write(part)
            await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    status_line, _, rest = data.partition(b"\r\n")
    _, _, body = rest.partition(b"\r\n\r\n")
    return RawResponse(int(status_line.split()[1]), body)
