"""Typed filters for inbox listings: the hub says what it wants, storage says how to ask.

A filter turns into one MongoDB query here and nowhere else, with every range half-open
(``$gte`` .. ``$lt``: on a compound index an ``$lte`` bound can drop the boundary document)
and no ``$or`` (planned as a collection scan by the embedded server). ``channels`` is the
set a caller may see: ``None`` for any channel, an empty set for none at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Document = dict[str, Any]


def _channels(channels: frozenset[str] | None) -> Any:
    if channels is None:
        return None
    if len(channels) == 1:
        return next(iter(channels))
    return {"$in": sorted(channels)}


def _span(since: datetime | None, until: datetime | None) -> Document | None:
    span: Document = {}
    if since is not None:
        span["$gte"] = since
    if until is not None:
        span["$lt"] = until
    return span or None


def _query(fields: dict[str, Any]) -> Document:
    return {key: value for key, value in fields.items() if value is not None}


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    """Which conversations a listing returns; the time range applies to their last message."""

    status: str | None = None
    channels: frozenset[str] | None = None
    assignee: str | None = None
    contact_id: str | None = None
    label: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def query(self) -> Document:
        return _query(
            {
                "status": self.status,
                "channel": _channels(self.channels),
                "assignee": self.assignee,
                "contact_id": self.contact_id,
                "labels": self.label,
                "last_message_at": _span(self.since, self.until),
            }
        )


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Which messages a listing returns; ``text`` is a case-insensitive substring."""

    conversation_id: str | None = None
    channels: frozenset[str] | None = None
    direction: str | None = None
    contact_id: str | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    private: bool | None = None

    def query(self) -> Document:
        return _query(
            {
                "conversation_id": self.conversation_id,
                "channel": _channels(self.channels),
                "direction": self.direction,
                "contact_id": self.contact_id,
                "private": self.private,
                "created_at": _span(self.since, self.until),
                "text": None
                if self.text is None
                else {"$regex": re.escape(self.text), "$options": "i"},
            }
        )
