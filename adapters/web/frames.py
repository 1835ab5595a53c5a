"""The ``/chat`` frame protocol: what customers may send, parsed strictly.

A plain (non-JSON) text frame is a message from the visitor, so the simplest client
works; JSON frames carry a ``type`` and are validated by these models.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, TypeAdapter, ValidationError


class FrameError(Exception):
    """A frame the server refuses; ``code`` is sent back in an error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HelloFrame(_Frame):
    type: Literal["hello"]
    visitor_token: str | None = Field(default=None, max_length=2048)
    name: str | None = Field(default=None, max_length=200)
    history_since: str | None = Field(default=None, max_length=64)
    history: bool = False


MediaId = Annotated[str, Field(min_length=1, max_length=64)]


class MessageFrame(_Frame):
    type: Literal["message"]
    text: str
    client_id: str | None = Field(default=None, min_length=1, max_length=100)
    # Files the visitor uploaded first (``POST /chat/uploads``), by their media id.
    attachments: list[MediaId] = Field(default_factory=list, max_length=10)


class HistoryFrame(_Frame):
    type: Literal["history"]
    since: str | None = Field(default=None, max_length=64)


class PingFrame(_Frame):
    type: Literal["ping"]


class TypingFrame(_Frame):
    """The visitor is typing (in their own active conversation: the frame names none)."""

    type: Literal["typing"]


class SeenFrame(_Frame):
    """The visitor was shown every message up to ``id`` (a read receipt)."""

    type: Literal["seen"]
    id: str = Field(min_length=1, max_length=64)


class ContactFrame(_Frame):
    """The visitor's own details, from the pre-chat or offline form (kept on the contact)."""

    type: Literal["contact"]
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None


ClientFrame = Annotated[
    HelloFrame | MessageFrame | HistoryFrame | PingFrame | TypingFrame | SeenFrame | ContactFrame,
    Field(discriminator="type"),
]
_client_frame: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)
KNOWN_TYPES = {"hello", "message", "history", "ping", "typing", "seen", "contact"}


def parse_frame(data: str, max_bytes: int) -> ClientFrame:
    """Turn one text frame into a typed frame, or raise ``FrameError``."""
    if len(data.encode("utf-8", "surrogatepass")) > max_bytes:
        raise FrameError("frame_too_large", f"frames are limited to {max_bytes} bytes")
    stripped = data.lstrip()
    if not stripped.startswith("{"):
        return MessageFrame(type="message", text=data)
    try:
        payload: Any = json.loads(data)
    except json.JSONDecodeError as exc:
        raise FrameError("invalid_json", f"frame is not valid JSON: {exc.msg}") from exc
    except RecursionError:
        raise FrameError("invalid_json", "frame is nested too deeply") from None
    if not isinstance(payload, dict):
        raise FrameError("invalid_frame", "a JSON frame must be an object")
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in KNOWN_TYPES:
        raise FrameError("unknown_type", f"unknown frame type {kind!r}")
    try:
        return _client_frame.validate_python(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "frame"
        raise FrameError("invalid_frame", f"{where}: {first['msg']}") from None


def error_frame(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}
