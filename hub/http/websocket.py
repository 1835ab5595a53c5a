"""WebSocket frames checked against RFC 6455 where aiohttp's reader is lenient.

aiohttp's reader takes unmasked client frames and answers a Close with code 1006, 5000 or
another code no endpoint may send with 1000. RFC 6455 says a server MUST close on an
unmasked client frame (§5.1) and close codes outside §7.4 are a protocol error, so every
hub socket (``/chat``, ``/inbox/ws``) is a ``CheckedWebSocketResponse``: a frame-header
scanner sits in front of aiohttp's reader, passes it every byte up to a bad frame, and
then fails the connection with 1002 the way aiohttp fails its own protocol errors.
"""

from __future__ import annotations

from typing import Any

from aiohttp import WebSocketError, WSCloseCode, web
from aiohttp.helpers import set_exception

# RFC 6455 §7.4.1 and the IANA registry: what a Close frame may carry.
_VALID_CLOSE = {1000, 1001, 1002, 1003, *range(1007, 1015)}
OP_CLOSE = 0x8


def valid_close_code(code: int) -> bool:
    return code in _VALID_CLOSE or 3000 <= code <= 4999


class ClientFrameCheck:
    """Stands where aiohttp's protocol expects its parser; scans headers, then delegates."""

    def __init__(self, parser: Any, queue: Any) -> None:
        self.parser = parser
        self.queue = queue
        self._pending = b""  # bytes not handed on yet (an incomplete header or Close frame)
        self._payload_left = 0  # payload bytes of the current data frame, passed unscanned
        self._failed = False

    def feed_eof(self) -> None:
        self.parser.feed_eof()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._failed:
            return True, b""
        buf = self._pending + bytes(data)
        passed, problem = self._scan(buf)
        self._pending = buf[passed:]
        if passed:
            eof, tail = self.parser.feed_data(buf[:passed])
            if eof:
                return eof, tail
        if problem is None:
            return False, b""
        self._failed = True
        set_exception(self.queue, WebSocketError(WSCloseCode.PROTOCOL_ERROR, problem))
        return True, b""

    def _scan(self, buf: bytes) -> tuple[int, str | None]:
        """How many bytes of ``buf`` are fine to pass on, and the problem found after them."""
        pos = 0
        while pos < len(buf):
            if self._payload_left:
                step = min(self._payload_left, len(buf) - pos)
                self._payload_left -= step
                pos += step
                continue
            header = _header(buf, pos)
            if header is None:
                return pos, None
            masked, size, length, opcode = header
            if not masked:
                return pos, "client frames must be masked"
            if opcode != OP_CLOSE or length > 125:  # aiohttp refuses a long control frame
                self._payload_left = length
                pos += size
                continue
            if len(buf) - pos < size + length:
                return pos, None  # hold the Close frame back until its code is here
            if length >= 2:
                mask = buf[pos + size - 4 : pos + size]
                code = ((buf[pos + size] ^ mask[0]) << 8) | (buf[pos + size + 1] ^ mask[1])
                if not valid_close_code(code):
                    return pos, f"invalid close code {code}"
            pos += size + length
        return pos, None


def _header(buf: bytes, pos: int) -> tuple[bool, int, int, int] | None:
    """(masked, header size, payload length, opcode) of the frame at ``pos``, or None if
    its header is not all here yet. Unmasked frames are reported once two bytes are in."""
    if len(buf) - pos < 2:
        return None
    opcode, second = buf[pos] & 0x0F, buf[pos + 1]
    masked, length = bool(second & 0x80), second & 0x7F
    extra = 2 if length == 126 else 8 if length == 127 else 0
    if not masked:
        return False, 0, 0, opcode
    size = 2 + extra + 4
    if len(buf) - pos < size:
        return None
    if extra:
        length = int.from_bytes(buf[pos + 2 : pos + 2 + extra], "big")
    return True, size, length, opcode


class CheckedWebSocketResponse(web.WebSocketResponse):
    """A ``WebSocketResponse`` whose client frames pass ``ClientFrameCheck`` first."""

    def _post_start(self, request: web.BaseRequest, protocol: str | None, writer: Any) -> None:
        handler: Any = request.protocol
        # Bytes that came with the handshake are fed by set_parser: keep them for the check.
        early, handler._message_tail = handler._message_tail, b""
        super()._post_start(request, protocol, writer)
        check = ClientFrameCheck(handler._payload_parser, self._reader)
        handler._payload_parser = check
        if early:
            eof, _ = check.feed_data(early)
            if eof:
                handler.close()
