"""RFC 6455 framing on every hub socket, checked with raw bytes after a real handshake."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct

import aiohttp
import pytest

from hub.state import TOKENS
from tests.helpers.hub import settle, wait_for

MAX_FRAME_ERROR_BYTES = 1_048_576  # README: frames up to 1 MiB get an error frame

MASK = b"\x37\xfa\x21\x3d"


def masked(opcode: int, payload: bytes) -> bytes:
    """A client frame as RFC 6455 §5.2 lays it out (FIN set, short payload, masked)."""
    body = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + MASK + body


async def handshake(client, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(client.host, client.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {client.host}:{client.port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


async def close_code(reader: asyncio.StreamReader) -> int:
    """Read server frames until its Close; return the code it carries."""
    while True:
        first, second = await asyncio.wait_for(reader.readexactly(2), 10)
        assert not second & 0x80, "server frames are never masked"
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", await reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await reader.readexactly(8))[0]
        payload = await reader.readexactly(length)
        if first & 0x0F == 0x8:
            return int(struct.unpack("!H", payload[:2])[0])


def socket_path(client, path: str) -> str:
    if path == "/inbox/ws":
        return f"{path}?access_token={client.app[TOKENS].issue('alice', 'agent')}"
    return path


@pytest.mark.parametrize("path", ["/chat", "/inbox/ws"])
async def test_unmasked_client_frame_is_a_protocol_error_and_stores_nothing(
    client, db, path
) -> None:
    reader, writer = await handshake(client, socket_path(client, path))
    writer.write(bytes.fromhex("8105") + b"hello")  # RFC 6455 §5.7's example, unmasked
    assert await close_code(reader) == 1002
    writer.close()
    assert await db.messages.count_documents({}) == 0


async def test_masked_frames_before_an_unmasked_one_are_still_taken(client, db) -> None:
    reader, writer = await handshake(client, "/chat")
    writer.write(masked(0x1, b"first, masked") + bytes.fromhex("8105") + b"hello")
    assert await close_code(reader) == 1002
    writer.close()
    # A message is not held up by the frames after it: its write may end after the close.
    await wait_for(lambda: db.messages.count_documents({}))
    await settle(client)
    texts = [doc["text"] for doc in await db.messages.find().to_list()]
    assert texts == ["first, masked"]


@pytest.mark.parametrize("path", ["/chat", "/inbox/ws"])
@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
async def test_close_with_an_undefined_code_is_answered_1002(client, path, code) -> None:
    reader, writer = await handshake(client, socket_path(client, path))
    writer.write(masked(0x8, struct.pack("!H", code) + b"bye"))
    assert await close_code(reader) == 1002
    writer.close()


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1011, 1014, 3000, 4999])
async def test_close_with_a_valid_code_is_answered_normally(client, code) -> None:
    reader, writer = await handshake(client, "/chat")
    # Split across writes, so the scanner sees the Close frame arrive in pieces.
    frame = masked(0x8, struct.pack("!H", code))
    writer.write(frame[:3])
    await writer.drain()
    writer.write(frame[3:])
    assert await close_code(reader) == 1000
    writer.close()


@pytest.mark.parametrize("size", [16_385, 70_000, MAX_FRAME_ERROR_BYTES])
async def test_an_oversized_frame_up_to_the_cap_gets_an_error_frame(client, db, size) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_str(json.dumps({"type": "message", "text": "x" * size})[:size])
        frame = await ws.receive_json(timeout=10)
        assert (frame["type"], frame["code"]) == ("error", "frame_too_large")
        await ws.send_json({"type": "ping"})  # the socket carries on
        assert (await ws.receive_json(timeout=10))["type"] == "pong"
    assert await db.messages.count_documents({}) == 0


async def test_a_frame_over_the_cap_closes_with_1009_not_a_reset(client, db) -> None:
    async with client.ws_connect("/chat") as ws:
        await ws.send_str("x" * (MAX_FRAME_ERROR_BYTES + 1))
        msg = await ws.receive(timeout=10)
        assert msg.type == aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 1009
    assert await db.messages.count_documents({}) == 0
