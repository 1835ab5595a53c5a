"""Placeholders in canned responses: ``{{contact.name}}``, with an optional fallback
``{{contact.name|there}}`` for when the value is unknown."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*(?:\|([^}]*))?\}\}")
KNOWN = frozenset(
    {"contact.name", "contact.email", "agent.name", "agent.id", "conversation.id", "channel.name"}
)


def unknown_placeholders(text: str) -> list[str]:
    return sorted({m.group(1) for m in PLACEHOLDER.finditer(text)} - KNOWN)


def render(text: str, values: Mapping[str, str | None]) -> str:
    def fill(found: re.Match[str]) -> str:
        return values.get(found.group(1)) or (found.group(2) or "").strip()

    return PLACEHOLDER.sub(fill, text)
