"""Placeholders in canned responses: ``{{contact.name}}``, with an optional fallback
``{{contact.name|there}}`` for when the value is unknown.

A placeholder shows only what its sender may read: ``contact.email`` is contact detail
(admin-only in the API), so for anyone else it renders as its fallback, as if unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*(?:\|([^}]*))?\}\}")
KNOWN = frozenset(
    {"contact.name", "contact.email", "agent.name", "agent.id", "conversation.id", "channel.name"}
)


# Placeholders whose value is contact detail, readable only by who may read contacts.
CONTACT_DETAIL = frozenset({"contact.email"})


def unknown_placeholders(text: str) -> list[str]:
    return sorted({m.group(1) for m in PLACEHOLDER.finditer(text)} - KNOWN)


def render(text: str, values: Mapping[str, str | None], *, reads_contacts: bool) -> str:
    """Fill ``text``; contact detail only when the sender ``reads_contacts``."""

    def fill(found: re.Match[str]) -> str:
        name = found.group(1)
        value = values.get(name) if reads_contacts or name not in CONTACT_DETAIL else None
        return value or (found.group(2) or "").strip()

    return PLACEHOLDER.sub(fill, text)
