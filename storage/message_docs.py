"""A message as a MongoDB document and back (``_id`` is the message id)."""

from __future__ import annotations

from typing import Any

from hub.domain import Message


def message_from_doc(doc: dict[str, Any]) -> Message:
    fields = {k: v for k, v in doc.items() if k != "_id" and k in Message.model_fields}
    return Message.model_validate({**fields, "id": doc["_id"]})


def message_to_doc(message: Message) -> dict[str, Any]:
    doc = message.model_dump(exclude={"id"})
    doc["_id"] = message.id
    return doc
