"""How Chorus things look in Slack, and how Slack payloads read as Chorus things.

Pure functions: mrkdwn escaping, the conversation header with its Claim and Resolve
buttons, mirrored message lines (attachments as links), and Slack files as attachments.

Every text the hub posts to Slack (fallback ``text``, mrkdwn blocks, ephemeral notes,
command answers) has ``&``, ``<`` and ``>`` escaped, as Slack's formatting guide asks:
otherwise a customer named ``<!channel>`` would notify the whole agent channel, and
``<https://evil|your bank>`` would be a disguised link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from hub.domain import Attachment, AttachmentKind, Conversation, Message

CLAIM_ACTION = "chorus_claim"
RESOLVE_ACTION = "chorus_resolve"
HEADER_MESSAGES = 5
LINE_CHARS = 300
# Prefix of the client id given to replies written in a Slack thread: the mirror skips
# them (the agent already sees them there) and a Slack retry stores them once.
THREAD_REPLY_PREFIX = "slack-thread:"


def escape(text: str) -> str:
    """Slack mrkdwn control characters, escaped the way Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack sends ``&``, ``<`` and ``>`` escaped; store what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def thread_key(channel: str, ts: str) -> str:
    """The stored key of a Slack thread: a ``ts`` is unique only within its channel."""
    return f"{channel}:{ts}"


def ts_to_datetime(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def attachment_links(attachments: Iterable[Attachment]) -> list[str]:
    links = []
    for attachment in attachments:
        name = escape(attachment.name or attachment.kind)
        url = escape(attachment.url) if attachment.url else None
        links.append(f"<{url}|{name}>" if url else f"{name} (stored)")
    return links


def with_links(text: str, attachments: Sequence[Attachment]) -> str:
    """Escaped text followed by one link per attachment."""
    return "\n".join(part for part in [escape(text), *attachment_links(attachments)] if part)


def _clip(text: str, limit: int = LINE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mirror_line(message: Message, customer: str) -> str:
    """One message as the agent thread shows it."""
    if message.author.kind == "contact":
        who = f"*{escape(customer)}*"
    elif message.author.kind == "bot":
        who = "*Bot*"
    else:
        who = f"*{escape(message.author.name or message.author.id)}* (agent)"
    if message.private:
        who = f"{who} _private note_"
    return f"{who}: {with_links(message.text, message.attachments)}"


def header(
    conversation: Conversation, customer: str, recent: Sequence[Message]
) -> tuple[str, list[dict[str, Any]]]:
    """The thread's first message: who, where, status, the last messages, and buttons."""
    name = escape(customer or "Unknown customer")
    status = f"status *{conversation.status}*"
    if conversation.assignee:
        status += f" · assigned to *{escape(conversation.assignee)}*"
    lines = [_clip(mirror_line(m, customer)) for m in recent[-HEADER_MESSAGES:]]
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{name}* on *{conversation.channel}* · {status}",
            },
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"conversation `{escape(conversation.id)}`"}],
        },
    ]
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    if conversation.status != "resolved":
        blocks.append(
            {
                "type": "actions",
                "block_id": "chorus_conversation",
                "elements": [
                    _button("Claim", CLAIM_ACTION, conversation.id, "primary"),
                    _button("Resolve", RESOLVE_ACTION, conversation.id, "danger"),
                ],
            }
        )
    text = f"{name} on {conversation.channel} ({conversation.status})"
    return text, blocks


def _button(label: str, action_id: str, value: str, style: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
        "style": style,
    }


def _kind(mime_type: str) -> AttachmentKind:
    major = mime_type.split("/", 1)[0]
    if major == "image":
        return "image"
    if major == "audio":
        return "audio"
    if major == "video":
        return "video"
    return "file"


def attachments_from_files(files: Iterable[dict[str, Any]]) -> tuple[Attachment, ...]:
    """Slack ``files`` of a message event, kept as links (Slack keeps the bytes)."""
    attachments = []
    for file in files:
        mime_type = str(file.get("mimetype") or "application/octet-stream")
        size = file.get("size")
        attachments.append(
            Attachment(
                kind=_kind(mime_type),
                name=str(file.get("name") or file.get("title") or ""),
                mime_type=mime_type,
                size=size if isinstance(size, int) else None,
                url=file.get("permalink") or file.get("url_private"),
            )
        )
    return tuple(attachments)
