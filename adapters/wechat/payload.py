"""WeChat's XML bodies read safely, and turned into the hub's ``InboundMessage``.

XML is parsed with defusedxml and no DTD at all, so entity expansion, external entities
and billion-laughs bodies are refused before anything is read from them. A body is one
``<xml>`` element of flat fields; anything else is refused as malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from hub.domain import Attachment, InboundMessage

MAX_FIELDS = 64
MESSAGE_KINDS = {"text", "image", "voice", "video", "shortvideo", "location", "link"}
# Events WeChat documents for Official Accounts that are not stored as messages.
KNOWN_EVENTS = {"unsubscribe", "SCAN", "LOCATION", "VIEW", "TEMPLATESENDJOBFINISH"}


class MalformedBody(ValueError):
    """Not a WeChat XML body."""


def parse_xml(body: bytes) -> dict[str, str]:
    """The fields of a flat ``<xml>`` body (``CDATA`` or plain text)."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedBody("the body is not well-formed XML without a DTD") from exc
    if root.tag != "xml" or len(root) > MAX_FIELDS:
        raise MalformedBody("the body is not one <xml> element of fields")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            raise MalformedBody(f"{child.tag} is not a flat field")
        fields[child.tag] = (child.text or "").strip()
    return fields


@dataclass(frozen=True)
class Parsed:
    """What a body means: a message to store, or a reason it is not stored."""

    inbound: InboundMessage | None
    skipped: str = ""


def _created_at(fields: dict[str, str]) -> datetime:
    try:
        return datetime.fromtimestamp(int(fields.get("CreateTime", "")), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedBody("CreateTime is not a Unix time") from exc


def _text_and_attachments(kind: str, fields: dict[str, str]) -> tuple[str, list[Attachment]]:
    media = fields.get("MediaId", "")
    if kind == "text":
        return fields.get("Content", ""), []
    if kind == "image":
        url = fields.get("PicUrl") or None
        return "", [Attachment(kind="image", name=media, mime_type="image/jpeg", url=url)]
    if kind == "voice":
        # With speech recognition on, WeChat sends what it heard: the bot can answer that.
        voice = Attachment(kind="audio", name=media, mime_type=f"audio/{fields.get('Format')}")
        return fields.get("Recognition", ""), [voice]
    if kind in ("video", "shortvideo"):
        return "", [Attachment(kind="video", name=media, mime_type="video/mp4")]
    if kind == "location":
        label = fields.get("Label", "")
        where = f"{fields.get('Location_X', '')},{fields.get('Location_Y', '')}"
        return f"📍 {label} ({where})".replace(" ()", ""), []
    if kind == "link":
        title, url = fields.get("Title", ""), fields.get("Url", "")
        return f"{title} {url}".strip(), []
    raise MalformedBody(f"unknown MsgType {kind!r}")


def _event(fields: dict[str, str]) -> tuple[str, str] | None:
    """(external id, text) for an event stored as a message; None for one that is not."""
    event = fields.get("Event", "")
    sender, created = fields["FromUserName"], fields.get("CreateTime", "")
    if event == "subscribe":
        return f"event:{sender}:{created}:subscribe", ""
    if event == "CLICK":
        # A menu click reads as the menu key typed: the bot and agents see what was chosen.
        return f"event:{sender}:{created}:click", fields.get("EventKey", "")
    return None


def parse_message(fields: dict[str, str], account: str) -> Parsed:
    """The inbound message in one decrypted body; ``account`` is the app id (for route)."""
    sender = fields.get("FromUserName", "")
    kind = fields.get("MsgType", "")
    if not sender or not kind:
        raise MalformedBody("FromUserName and MsgType are required")
    created_at = _created_at(fields)
    raw: dict[str, Any] = dict(fields)
    route = {"openid": sender, "account": account, "last_inbound_at": created_at.isoformat()}
    if kind == "event":
        found = _event(fields)
        if found is None:
            # A fixed vocabulary: the reason becomes a metric label.
            event = fields.get("Event", "")
            return Parsed(None, event.lower() if event in KNOWN_EVENTS else "other_event")
        external_id, text = found
        attachments: list[Attachment] = []
    elif kind not in MESSAGE_KINDS:
        # WeChat retries anything but "success" and then tells the customer the account
        # failed: a kind Chorus does not read yet is answered and counted, not refused.
        return Parsed(None, "other_message")
    else:
        if not fields.get("MsgId"):
            raise MalformedBody("a message has a MsgId")
        external_id = fields["MsgId"]
        text, attachments = _text_and_attachments(kind, fields)
    return Parsed(
        InboundMessage(
            channel="wechat",
            external_id=external_id,
            sender_id=sender,
            thread_key=sender,
            text=text,
            attachments=tuple(attachments),
            created_at=created_at,
            route=route,
            raw=raw,
        )
    )
