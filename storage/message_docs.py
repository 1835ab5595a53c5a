"""A message as a MongoDB document and back (``_id`` is the message id)."""

from __future__ import annotations

import re
from typing import Any

from hub.domain import WEB_URL, Message


def message_from_doc(doc: dict[str, Any]) -> Message:
    fields = {k: v for k, v in doc.items() if k != "_id" and k in Message.model_fields}
    if fields.get("attachments"):
        fields["attachments"] = [_web_url_only(a) for a in fields["attachments"]]
    return Message.model_validate({**fields, "id": doc["_id"]})


def _web_url_only(attachment: dict[str, Any]) -> dict[str, Any]:
    """Messages stored before URLs had to be web links keep the attachment, not the URL."""
    url = attachment.get("url")
    if isinstance(url, str) and not re.match(WEB_URL, url):
        return {**attachment, "url": None}
    return attachment


def message_to_doc(message: Message) -> dict[str, Any]:
    doc = message.model_dump(exclude={"id"})
    doc["_id"] = message.id
    return doc
