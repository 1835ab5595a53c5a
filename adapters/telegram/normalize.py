"""Bot API ``Update`` JSON → the hub's normalized inbound message.

Works on the wire JSON (what the webhook receives, what ``getUpdates`` returns), so both
modes share one path and the payload is kept untouched in ``raw``. Anything this channel
does not handle becomes an ``unsupported`` result with a label for counting; nothing here
raises on odd input. Labels come from a fixed vocabulary (they become metric labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from telegram import Update
from telegram.constants import ChatType

from hub.domain import Attachment, AttachmentKind, InboundMessage

# Message content this channel cannot represent yet; used only to label what was skipped.
_OTHER_CONTENT = ("sticker", "location", "venue", "poll", "dice", "game", "video_note", "story")
_UPDATE_KINDS = frozenset(str(kind) for kind in Update.ALL_TYPES)
_CHAT_TYPES = frozenset(str(kind) for kind in ChatType)


@dataclass(frozen=True, slots=True)
class TelegramFile:
    """A file the customer sent: its Bot API ``file_id`` and the attachment it became."""

    file_id: str
    attachment: Attachment


@dataclass(frozen=True, slots=True)
class NormalizedUpdate:
    """What one update means to the hub: a new message, an edit, or nothing we handle."""

    kind: Literal["message", "edit", "unsupported"]
    inbound: InboundMessage | None = None
    files: tuple[TelegramFile, ...] = ()
    label: str = ""

    @classmethod
    def unsupported(cls, label: str) -> NormalizedUpdate:
        return cls(kind="unsupported", label=label)


def external_id(chat_id: int | str, message_id: int | str) -> str:
    """A Telegram message's id in the inbox: message ids are unique per chat only."""
    return f"{chat_id}:{message_id}"


def normalize_update(update: dict[str, Any]) -> NormalizedUpdate:
    """Normalize one ``Update``; never raises on a malformed or unknown payload."""
    try:
        if isinstance(update.get("message"), dict):
            return _normalize_message(update, update["message"], "message")
        if isinstance(update.get("edited_message"), dict):
            return _normalize_message(update, update["edited_message"], "edit")
    except (KeyError, TypeError, ValueError, AttributeError):
        # AttributeError: a null or a list where the Bot API has an object.
        return NormalizedUpdate.unsupported("malformed")
    kinds = [key for key in update if key != "update_id"]
    if not kinds:
        return NormalizedUpdate.unsupported("empty")
    return NormalizedUpdate.unsupported(kinds[0] if kinds[0] in _UPDATE_KINDS else "other_update")


def _normalize_message(
    update: dict[str, Any], message: dict[str, Any], kind: Literal["message", "edit"]
) -> NormalizedUpdate:
    chat = message["chat"]
    sender = message.get("from")
    chat_type = _chat_type(chat, sender)
    if chat_type != "private":
        return NormalizedUpdate.unsupported(
            f"{chat_type}_chat" if chat_type in _CHAT_TYPES else "unknown_chat"
        )
    if not isinstance(sender, dict) or sender.get("is_bot"):
        return NormalizedUpdate.unsupported("no_human_sender")
    files = _files(message)
    text = message.get("text") or message.get("caption") or ""
    if not isinstance(text, str):
        raise TypeError("text is not a string")
    if isinstance(message.get("contact"), dict):
        text = _contact_text(message["contact"])
    if not text and not files:
        label = next((key for key in _OTHER_CONTENT if key in message), "other")
        return NormalizedUpdate.unsupported(f"{kind}:{label}")
    chat_id = int(chat["id"])
    names = (sender.get("first_name"), sender.get("last_name"))
    inbound = InboundMessage(
        channel="telegram",
        external_id=external_id(chat_id, int(message["message_id"])),
        sender_id=str(int(sender["id"])),
        sender_name=" ".join(part for part in names if part),
        sender_handle=sender.get("username"),
        thread_key=str(chat_id),
        text=text,
        attachments=tuple(item.attachment for item in files),
        created_at=datetime.fromtimestamp(int(message["date"]), UTC),
        route={"chat_id": chat_id},
        raw=update,
    )
    return NormalizedUpdate(kind=kind, inbound=inbound, files=tuple(files))


def _chat_type(chat: dict[str, Any], sender: Any) -> Any:
    """The chat's ``type``. The example updates in Telegram's webhook guide (the ones a bot
    developer replays with curl) leave it out, and ``is_bot`` too; a chat whose id is the
    sender's own is a one-to-one chat, so it counts as private."""
    if "type" in chat or not isinstance(sender, dict) or chat.get("id") is None:
        return chat.get("type")
    return "private" if chat["id"] == sender.get("id") else None


def _contact_text(contact: dict[str, Any]) -> str:
    names = (contact.get("first_name"), contact.get("last_name"))
    name = " ".join(part for part in names if part)
    phone = contact.get("phone_number", "")
    return f"Shared contact: {name}, {phone}" if name else f"Shared contact: {phone}"


def _files(message: dict[str, Any]) -> list[TelegramFile]:
    files: list[TelegramFile] = []
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        # Telegram sends several sizes of one photo; the last is the largest.
        largest = photos[-1]
        files.append(_file(largest, "image", "photo.jpg", "image/jpeg"))
    singles: tuple[tuple[str, AttachmentKind | None, str, str], ...] = (
        ("document", None, "document", "application/octet-stream"),
        ("voice", "audio", "voice.ogg", "audio/ogg"),
        ("audio", "audio", "audio.mp3", "audio/mpeg"),
        ("video", "video", "video.mp4", "video/mp4"),
    )
    for field, kind, name, mime in singles:
        item = message.get(field)
        if isinstance(item, dict):
            files.append(_file(item, kind, name, mime))
    return files


def _file(item: dict[str, Any], kind: AttachmentKind | None, name: str, mime: str) -> TelegramFile:
    mime_type = item.get("mime_type") or mime
    if kind is None:
        kind = _kind_for(mime_type)
    attachment = Attachment(
        kind=kind,
        name=item.get("file_name") or name,
        mime_type=mime_type,
        size=item.get("file_size"),
    )
    return TelegramFile(file_id=str(item["file_id"]), attachment=attachment)


def _kind_for(mime_type: str) -> AttachmentKind:
    for prefix, kind in (("image/", "image"), ("audio/", "audio"), ("video/", "video")):
        if mime_type.startswith(prefix):
            return kind  # type: ignore[return-value]
    return "file"
